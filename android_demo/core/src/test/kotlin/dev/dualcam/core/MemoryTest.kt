package dev.dualcam.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * A phone's heap: 12-megapixel pairs through the whole pipeline (geometry included) with a probe in place of the
 * network, run by `make junit` in a JVM of its own with -Xmx256m. The pair is a synthetic scene (smooth random
 * texture, colour varying across it) seen by the colour camera up to `disparity` px to the left (a plane sloping from
 * infinity at the top row to `disparity` at the bottom one), so its geometry is known.
 */
class MemoryTest {
    /** Value noise: random levels on a grid `cell` px apart, bilinearly interpolated; deterministic in `seed`. */
    private fun noise(x: Double, y: Double, cell: Int, seed: Int): Double {
        fun lattice(i: Int, j: Int): Double {
            var h = i * 374761393 + j * 668265263 + seed * 1442695041
            h = (h xor (h ushr 13)) * 1274126177
            return ((h xor (h ushr 16)) and 0xffff) / 65535.0
        }
        val gx = x / cell
        val gy = y / cell
        val i = Math.floor(gx).toInt()
        val j = Math.floor(gy).toInt()
        val fx = gx - i
        val fy = gy - j
        val top = lattice(i, j) * (1 - fx) + lattice(i + 1, j) * fx
        val bottom = lattice(i, j + 1) * (1 - fx) + lattice(i + 1, j + 1) * fx
        return top * (1 - fy) + bottom * fy
    }

    /** The scene's RGB at (x, y), each channel on [0, 1]. */
    private fun scene(x: Double, y: Double, channel: Int): Double =
        0.15 + 0.45 * noise(x, y, 48, 1) + 0.25 * noise(x, y, 12, 2) + 0.15 * noise(x, y, 400, 3 + channel)

    /** (mono, colour) of a width x height pair, the colour camera left of the mono camera by 0..`disparity` px. */
    private fun pair(height: Int, width: Int, disparity: Int): Pair<ByteImage, ByteImage> {
        val mono = ByteImage(height, width, 1)
        val color = ByteImage(height, width, 3)
        for (y in 0 until height) for (x in 0 until width) {
            val rgb = FloatArray(3) { scene(x.toDouble(), y.toDouble(), it).toFloat() }
            mono.data[y * width + x] = Math.round(Color.luma(rgb[0], rgb[1], rgb[2]) * 255).toByte()
            val shift = disparity * y.toDouble() / (height - 1)
            for (c in 0..2) color.data[(y * width + x) * 3 + c] = Math.round(scene(x - shift, y.toDouble(), c) * 255).toByte()
        }
        return Pair(mono, color)
    }

    private fun colorize(height: Int, width: Int, disparity: Int): Colorized {
        val (mono, color) = pair(height, width, disparity)
        val manifest = Manifests.shipped()
        var rows = 0
        var lumaChecked = 0
        val sink: RowSink = { top, pixels, count ->
            assertEquals("strips in order", rows, top)
            rows += count
            // The output's luma is the mono image wherever no channel is clipped (each channel rounded to 8 bits).
            for (x in 0 until width step 97) {
                val argb = pixels[x]
                val levels = listOf(16, 8, 0).map { (argb shr it) and 0xff }
                if (levels.all { it in 1..254 }) {
                    assertEquals(mono[top, x], Color.luma(levels[0] / 255f, levels[1] / 255f, levels[2] / 255f), 0.5f / 255 + 1e-6f)
                    lumaChecked++
                }
            }
        }
        val result = TileSession(manifest, "int8") { ProbeBackend(manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity) }
            .use { Colorizer(it).colorize(mono, color, sink, budgetMb = 4096) }  // the heap is what is measured here
        assertEquals(height, rows)
        assertTrue(lumaChecked > 0)
        println("${width}x$height, disparity $disparity: working scale ${result.scale}, ${result.grid.size} tiles, " +
            "${"%.1f".format(result.totalSeconds)} s in a ${Runtime.getRuntime().maxMemory() shr 20} MB heap")
        return result
    }

    @Test
    fun aTwelveMegapixelPairWithDisparity150FitsA256MbHeap() {
        assertTrue("run with -Xmx256m (make junit does)", Runtime.getRuntime().maxMemory() <= 256L shl 20)
        val result = colorize(3000, 4000, 150)
        assertEquals(CameraSide.LEFT, result.geometry.cameraSide)
        assertEquals(150.0, result.geometry.disparities!!.second, 15.0)
        // Each row of tiles sees a slice of the slope, so tile windows keep a scale well above the pair window's.
        assertTrue(result.scale > 1.5 * Manifests.shipped().window(Pair(0.0, 150.0)).first)
    }

    @Test
    fun aTwelveMegapixelPairColouredAtFullResolutionFitsToo() {
        assertTrue("run with -Xmx256m (make junit does)", Runtime.getRuntime().maxMemory() <= 256L shl 20)
        val result = colorize(3000, 4000, 40)
        assertEquals(1.0, result.scale, 0.0)
    }
}
