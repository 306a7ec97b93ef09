package dev.dualcam.core

import org.junit.Assert.assertEquals
import org.junit.Assert.fail

/** golden.json, written by tools/golden.py from the Python runtime, read from the test classpath. */
@Suppress("UNCHECKED_CAST")
object Golden {
    val root: Map<String, Any?> by lazy {
        val stream = Golden::class.java.getResourceAsStream("/golden.json") ?: error("golden.json is not on the test classpath")
        Json.parse(stream.bufferedReader().readText()) as Map<String, Any?>
    }

    fun section(name: String): Map<String, Any?> = root[name] as Map<String, Any?>

    fun list(value: Any?): List<Map<String, Any?>> = value as List<Map<String, Any?>>

    fun floats(value: Any?): FloatArray = (value as List<Double>).map { it.toFloat() }.toFloatArray()

    fun doubles(value: Any?): DoubleArray = (value as List<Double>).toDoubleArray()

    fun ints(value: Any?): IntArray = (value as List<Double>).map { it.toInt() }.toIntArray()

    fun image(value: Any?): FloatImage {
        val m = value as Map<String, Any?>
        return FloatImage(m.int("height"), m.int("width"), m.int("channels"), floats(m["data"]))
    }

    /** Equal shapes and every sample within `tolerance`; the message names the worst sample. */
    fun assertClose(what: String, expected: FloatImage, actual: FloatImage, tolerance: Float) {
        assertEquals("$what: shape", listOf(expected.height, expected.width, expected.channels), listOf(actual.height, actual.width, actual.channels))
        assertClose(what, expected.data, actual.data, tolerance)
    }

    fun assertClose(what: String, expected: FloatArray, actual: FloatArray, tolerance: Float) {
        assertEquals("$what: size", expected.size, actual.size)
        var worst = 0
        for (i in expected.indices) if (Math.abs(expected[i] - actual[i]) > Math.abs(expected[worst] - actual[worst])) worst = i
        if (expected.isNotEmpty() && !(Math.abs(expected[worst] - actual[worst]) <= tolerance)) {
            fail("$what: sample $worst is ${actual[worst]}, the runtime has ${expected[worst]} (tolerance $tolerance)")
        }
    }
}

/** What a [RowSink] receives, put together: the whole coloured image as 0xAARRGGBB pixels. */
class Collected(val height: Int, val width: Int) : (Int, IntArray, Int) -> Unit {
    val pixels = IntArray(height * width)
    var strips = 0

    override fun invoke(top: Int, strip: IntArray, count: Int) {
        System.arraycopy(strip, 0, pixels, top * width, count * width)
        strips++
    }

    /** R, G, B samples, row-major, as the runtime's (H, W, 3) uint8 array ravels. */
    fun samples(): IntArray = IntArray(3 * pixels.size) { (pixels[it / 3] shr (16 - 8 * (it % 3))) and 0xff }
}

/**
 * The fixed function tools/golden.py runs in place of the network (ProbeModel there), on the model's NCHW arrays:
 * it reads the mono tile, the reference at a shift and each column's position in its tile, so the tiling's windows,
 * edge replication and blending all show in the result.
 */
class ProbeBackend(private val tileHeight: Int, private val tileWidth: Int, private val maxDisparity: Int) : InferenceBackend {
    override val description = "probe"
    var calls = 0
    var closed = false

    override fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray {
        calls++
        val refWidth = tileWidth + maxDisparity
        val shift = maxDisparity / 2
        val plane = tileHeight * tileWidth
        val out = FloatArray(2 * plane)
        for (y in 0 until tileHeight) for (x in 0 until tileWidth) {
            val mono = monoY[y * tileWidth + x]
            val position = x.toFloat() / tileWidth.toFloat()
            out[y * tileWidth + x] = mono * 0.5f + refY[y * refWidth + x + shift] * 0.25f + position * 0.1f
            out[plane + y * tileWidth + x] = refCbcr[tileHeight * refWidth + y * refWidth + x + shift] - mono * 0.125f +
                refCbcr[y * refWidth + x] * 0.25f
        }
        return out
    }

    override fun close() {
        closed = true
    }
}
