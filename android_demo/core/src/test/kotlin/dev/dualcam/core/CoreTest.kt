package dev.dualcam.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertSame
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File

/** The shipped manifest.json and model files, from the folder the build names in -Ddualcam.models. */
object Manifests {
    val folder: File by lazy { File(System.getProperty("dualcam.models") ?: error("set -Ddualcam.models to runtime/models")) }

    fun shipped(): ModelManifest = ModelManifest.parse(File(folder, ModelManifest.MANIFEST).readText())
}

/**
 * Behaviour of the core that golden vectors do not pin down: checksums, the manifest's checks, the camera side, the
 * arrangement's inverse, the session's arena decision, the JSON reader.
 */
class CoreTest {
    private val probeManifest = ModelManifest(16, 32, 8, 4, 0.85, 0.125, emptyMap())

    private fun colorizeWithProbe(mono: FloatImage, color: FloatImage, side: CameraSide, maxPairDisparity: Double?): Colorized =
        TileSession(probeManifest, "int8") { ProbeBackend(16, 32, 8) }.use { Colorizer(it).colorize(mono, color, side, maxPairDisparity) }

    @Test
    fun shippedModelsPassTheirChecksumsAndACorruptedOneDoesNot() {
        val manifest = Manifests.shipped()
        for (role in listOf("int8", "int8_ort", "mobile_ort")) {
            val bytes = File(Manifests.folder, manifest.model(role).file).readBytes()
            assertEquals(manifest.model(role).bytes, bytes.size.toLong())
            manifest.checkBytes(role, bytes)
            bytes[bytes.size / 2] = (bytes[bytes.size / 2] + 1).toByte()
            try {
                manifest.checkBytes(role, bytes)
                fail("a changed byte in $role passed the checksum")
            } catch (error: ModelError) {
                assertTrue(error.message!!.contains("checksum differs"))
            }
        }
    }

    @Test
    fun unknownRolesAndForeignJsonAreRefusedByName() {
        try {
            Manifests.shipped().model("fp16")
            fail("no fp16 model is shipped")
        } catch (error: ModelError) {
            assertTrue(error.message!!, error.message!!.contains("'fp16'") && error.message!!.contains("int8"))
        }
        try {
            ModelManifest.parse("{\"tile\": {}}")
            fail("a manifest without files or d")
        } catch (error: ModelError) {
            assertEquals("manifest.json: not a dualcam manifest (no files, max_disparity)", error.message)
        }
    }

    @Test
    fun anOverlapTooLargeForTheTileIsRefusedByName() {
        val text = File(Manifests.folder, ModelManifest.MANIFEST).readText()
        assertEquals(32, ModelManifest.parse(text).overlap)
        try {
            ModelManifest.parse(text.replace("\"overlap\": 32", "\"overlap\": 128"))
            fail("an overlap of half the 256-px tile")
        } catch (error: ModelError) {
            assertEquals("manifest.json: 'overlap' must be an int from 0 to 127, not 128", error.message)
        }
    }

    @Test
    fun jsonReaderHandlesEscapesNestingAndNumbers() {
        val value = Json.parse(" {\"a\\\"b\": [1, -2.5e3, true, null, {}], \"c\": \"\\u00e9\\n\"} ") as Map<*, *>
        assertEquals(listOf(1.0, -2500.0, true, null, emptyMap<String, Any?>()), value["a\"b"])
        assertEquals("é\n", value["c"])
        for (bad in listOf("{", "[1,]", "{\"a\" 1}", "01x", "\"open")) {
            try {
                Json.parse(bad)
                fail("parsed bad JSON $bad")
            } catch (error: RuntimeException) {
                // IllegalArgumentException from the reader, or an index past the end of the text
            }
        }
    }

    @Test
    fun colorCameraOnTheRightIsTheMirroredProblem() {
        val mono = FloatImage(64, 96, 1, FloatArray(64 * 96) { ((it * 37) % 101) / 100f })
        val color = FloatImage(64, 96, 3, FloatArray(64 * 96 * 3) { ((it * 53) % 97) / 96f })
        val right = colorizeWithProbe(mono, color, CameraSide.RIGHT, 20.0)
        val mirrored = colorizeWithProbe(mono.flippedHorizontally(), color.flippedHorizontally(), CameraSide.LEFT, 20.0)
        assertTrue(right.flipped)
        assertEquals(0.85 * 8 / 20.0, right.scale, 1e-12)
        // Equal but for rounding: the runtime scales before it flips, and area weights are not mirror-exact.
        assertArrayEquals(mirrored.rgb.flippedHorizontally().data, right.rgb.data, 1e-5f)
    }

    @Test
    fun outputLumaIsTheMonoImage() {
        val mono = FloatImage(64, 80, 1, FloatArray(64 * 80) { 0.2f + 0.6f * ((it * 31) % 89) / 88f })
        val color = FloatImage(64, 80, 3, FloatArray(64 * 80 * 3) { 0.3f + 0.4f * ((it * 7) % 13) / 12f })
        val out = colorizeWithProbe(mono, color, CameraSide.LEFT, null).rgb
        val ycbcr = Color.rgbToYcbcr(out)
        var inside = 0
        for (i in 0 until 64 * 80) {
            val rgb = (0..2).map { out.data[3 * i + it] }
            if (rgb.all { it > 0f && it < 1f }) {  // clipping a channel changes the luma; elsewhere it is kept
                assertEquals(mono.data[i], ycbcr.data[3 * i], 2e-6f)
                inside++
            }
        }
        assertTrue("most pixels are inside the RGB cube", inside > 64 * 80 / 2)
    }

    @Test
    fun arrangementRestoresWhatItArranges() {
        val mono = FloatImage(3, 5, 1, FloatArray(15) { it.toFloat() })
        for (transposed in listOf(false, true)) for (flipped in listOf(false, true)) {
            val arrangement = Arrangement(3, 5, transposed, flipped)
            val framed = arrangement.mono(mono)
            assertEquals(if (transposed) Pair(5, 3) else Pair(3, 5), Pair(framed.height, framed.width))
            // The frame's first pixel: the colour camera's end of the mono image's first row (portrait: first column).
            assertEquals(mono[if (transposed && flipped) 2 else 0, if (!transposed && flipped) 4 else 0], framed[0, 0])
            val restored = arrangement.restore(framed)
            assertEquals(listOf(3, 5), listOf(restored.height, restored.width))
            assertArrayEquals("transposed $transposed, flipped $flipped", mono.data, restored.data, 0f)
        }
        val portrait = Arrangement(24, 40, transposed = true, scale = 0.5)
        assertEquals(Pair(20, 12), portrait.shape)
        val framed = portrait.mono(FloatImage(24, 40, 1))
        assertEquals(Pair(20, 12), Pair(framed.height, framed.width))
        assertEquals(listOf(12, 20), portrait.restore(framed).let { listOf(it.height, it.width) })
    }

    @Test
    fun sessionPlansBeforeItOpensAndReopensOnlyWhenTheArenaDecisionChanges() {
        val opened = ArrayList<Boolean>()
        val session = TileSession(probeManifest, "int8") { arena -> opened.add(arena); ProbeBackend(16, 32, 8) }
        // 64x64 with int8's 16x(32 + 8) tiles: about 124 MB with the arena, 122 MB without.
        try {
            session.prepare(64, 64, null, 121)
            fail("121 MB cannot hold the leanest session")
        } catch (error: BudgetError) {
            assertEquals(122, error.neededMb)
        }
        assertEquals("nothing opened for a pair that cannot fit", emptyList<Boolean>(), opened)
        assertTrue(session.prepare(64, 64, null, 2048).memoryArena)
        val first = session.backend as ProbeBackend
        assertEquals(124, session.prepare(64, 80, 64 * 80L, 2048).estimatedPeakMb)
        assertSame("kept while the decision holds", first, session.backend)
        assertFalse(session.prepare(64, 64, null, 123).memoryArena)
        assertTrue("closed before the next one opens", first.closed)
        assertEquals(listOf(true, false), opened)
        val second = session.backend as ProbeBackend
        session.close()
        assertTrue(second.closed)
        try {
            session.backend
            fail("a closed session has no backend")
        } catch (error: IllegalStateException) {
            assertTrue(error.message!!.contains("prepare"))
        }
    }

    @Test
    fun roundingIsHalfToEvenAsNumpys() {
        assertEquals(listOf(0, 2, 2, 4), listOf(0.5, 1.5, 2.5, 3.5).map { ChromaScale.roundHalfEven(it) })
        assertEquals(128, Color.quantize(0.5019608f, 255))
        assertEquals(255, Color.quantize(1.7f, 255))
        assertEquals(0, Color.quantize(-0.1f, 255))
    }

    @Test
    fun peakMemoryIsReadWhereTheKernelReportsIt() {
        val peak = Benchmark.peakResidentMb()
        if (File("/proc/self/status").exists()) assertTrue("VmHWM $peak MB", peak != null && peak > 1.0) else assertNull(peak)
    }
}
