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

    /** Random images have nothing to match: the pair is taken as given, with this side and disparity. */
    private fun colorizeWithProbe(mono: FloatImage, color: FloatImage, side: CameraSide, disparities: Pair<Double, Double>?): Pair<Colorized, Collected> {
        val image = Collected(mono.height, mono.width)
        val result = TileSession(probeManifest, "int8") { ProbeBackend(16, 32, 8) }.use {
            Colorizer(it).colorize(mono, color, image, GeometryOptions(side, disparities, acceptUnverified = true))
        }
        return Pair(result, image)
    }

    @Test
    fun nnapiRunsTheMobileInt8ModelWhereTheExportHasOne() {
        val shipped = Manifests.shipped()
        assertEquals("mobile_int8_ort", Provider.NNAPI.role(shipped))
        assertEquals("int8_ort", Provider.XNNPACK.role(shipped))
        val older = ModelManifest(shipped.tileHeight, shipped.tileWidth, shipped.maxDisparity, shipped.overlap,
            shipped.rangeMargin, shipped.minScale, shipped.files - "mobile_int8_ort")
        assertEquals("mobile_ort", Provider.NNAPI.role(older))
    }

    @Test
    fun shippedModelsPassTheirChecksumsAndACorruptedOneDoesNot() {
        val manifest = Manifests.shipped()
        for (role in listOf("int8", "int8_ort", "mobile_ort", "mobile_int8_ort")) {
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
        val (right, rightImage) = colorizeWithProbe(mono, color, CameraSide.RIGHT, Pair(0.0, 20.0))
        val (_, mirrored) = colorizeWithProbe(mono.flippedHorizontally(), color.flippedHorizontally(), CameraSide.LEFT, Pair(0.0, 20.0))
        assertTrue(right.flipped)
        assertEquals(0.85 * 8 / 20.0, right.scale, 1e-12)
        // Equal but for rounding: the runtime scales before it flips, and area weights are not mirror-exact.
        for (y in 0 until 64) for (x in 0 until 96) for (shift in listOf(0, 8, 16)) {
            val a = (rightImage.pixels[y * 96 + x] shr shift) and 0xff
            val b = (mirrored.pixels[y * 96 + 95 - x] shr shift) and 0xff
            assertTrue("($y, $x): $a and $b", Math.abs(a - b) <= 1)
        }
    }

    @Test
    fun outputLumaIsTheMonoImage() {
        val mono = FloatImage(64, 80, 1, FloatArray(64 * 80) { 0.2f + 0.6f * ((it * 31) % 89) / 88f })
        val color = FloatImage(64, 80, 3, FloatArray(64 * 80 * 3) { 0.3f + 0.4f * ((it * 7) % 13) / 12f })
        val (_, out) = colorizeWithProbe(mono, color, CameraSide.LEFT, null)
        val rgb = out.samples()
        var inside = 0
        for (i in 0 until 64 * 80) {
            val levels = (0..2).map { rgb[3 * i + it] }
            if (levels.all { it in 1..254 }) {  // clipping a channel changes the luma; elsewhere it is kept
                val luma = Color.luma(levels[0] / 255f, levels[1] / 255f, levels[2] / 255f)
                assertEquals(mono.data[i], luma, 0.5f / 255 + 1e-6f)  // each channel rounded to 8 bits
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
            // A row at a time, as the pipeline restores its strips.
            val restored = FloatImage(3, 5, 1)
            for (y in 0 until framed.height) {
                arrangement.restore(FloatImage(1, framed.width, 1, framed.data.copyOfRange(y * framed.width, (y + 1) * framed.width)), y, restored)
            }
            assertArrayEquals("transposed $transposed, flipped $flipped", mono.data, restored.data, 0f)
        }
        val portrait = Arrangement(24, 40, transposed = true, scale = 0.5)
        assertEquals(Pair(20, 12), portrait.shape)
        val framed = portrait.mono(FloatImage(24, 40, 1))
        assertEquals(Pair(20, 12), Pair(framed.height, framed.width))
        assertEquals(Pair(12, 20), portrait.restoredShape)
    }

    @Test
    fun sessionPlansBeforeItOpensAndReopensOnlyWhenTheArenaDecisionChanges() {
        val opened = ArrayList<Boolean>()
        val session = TileSession(probeManifest, "int8") { arena -> opened.add(arena); ProbeBackend(16, 32, 8) }
        val frame = Pair(64, 64)
        val lean = Planner.memory(64, 64, "int8", probeManifest, 100_000, null, frame)
        val least = Planner.memory(64, 64, "int8", probeManifest, 100_000)
        assertTrue("the least a pair could need is no more than its lean plan", least.estimatedPeakMb <= lean.estimatedPeakMb)
        try {
            session.prepare(64, 64, null, least.estimatedPeakMb - 1)
            fail("a budget under the least the pair could need is refused before its frame is known")
        } catch (error: BudgetError) {
            assertEquals(least.estimatedPeakMb, error.neededMb)
        }
        assertFalse("nothing opened before the frame is known", session.prepare(64, 64, null, 100_000).memoryArena)
        assertEquals("nothing opened for a pair that cannot fit", emptyList<Boolean>(), opened)
        val roomy = session.prepare(64, 64, null, 100_000, frame)
        assertTrue(roomy.memoryArena)
        val first = session.backend as ProbeBackend
        assertTrue("a larger colour image needs more", session.prepare(64, 80, 50 * 64 * 80L, 100_000, Pair(64, 80)).estimatedPeakMb > roomy.estimatedPeakMb)
        assertSame("kept while the decision holds", first, session.backend)
        assertFalse(session.prepare(64, 64, null, roomy.estimatedPeakMb - 1, frame).memoryArena)
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

    private fun noise(height: Int, width: Int, channels: Int, seed: Long): FloatImage {
        val random = java.util.Random(seed)
        return FloatImage(height, width, channels, FloatArray(height * width * channels) { random.nextFloat() })
    }

    @Test
    fun stripsOfTheChromaFilterAreTheWholeFramesFilter() {
        // 300 rows of 16-row tiles: the filter runs in many strips as the tile rows finish.
        val mono = noise(300, 70, 1, 1)
        val color = noise(300, 70, 3, 2)
        val arrangement = Arrangement(300, 70)
        fun predict(filter: Boolean) = Chroma.predict(mono, color, arrangement, probeManifest, ProbeBackend(16, 32, 8), filter).cbcr
        val whole = Guided.filter(arrangement.mono(mono), predict(filter = false))
        assertArrayEquals(whole.data, predict(filter = true).data, 0f)
    }

    @Test
    fun stripsOfTheGuidedUpsamplingAreTheWholeImagesUpsampling() {
        val guide = noise(600, 50, 1, 3)
        val low = noise(230, 19, 2, 4)
        val whole = Guided.upsample(guide, low)
        val strips = listOf(0, 256, 512, 600).zipWithNext { top, bottom -> Guided.upsampleRows(guide, low, top, bottom).data }
        assertArrayEquals(whole.data, strips.reduce { a, b -> a + b }, 0f)
    }

    @Test
    fun decodedBytesAreReadAsTheRuntimeReadsThem() {
        val grey = ByteImage(2, 3, 3)
        val argb = intArrayOf(0xff000000.toInt(), 0xff7f7f7f.toInt(), 0xffffffff.toInt())
        for (y in 0..1) grey.setArgbRow(y, argb)
        val mono = grey.asMono()
        assertTrue("an RGB file of equal channels is its grey levels, one byte a pixel", mono is ByteImage && mono.channels == 1)
        assertEquals(127 / 255f, mono[1, 1], 0f)
        val colored = ByteImage(1, 3, 3)
        colored.setArgbRow(0, intArrayOf(0xffff0000.toInt(), 0xff00ff00.toInt(), 0xff0000ff.toInt()))
        val luma = colored.asMono()
        assertEquals(listOf(Color.LUMA_R, Color.LUMA_G, Color.LUMA_B), (0..2).map { luma[0, it] })
        val row = FloatArray(9)
        colored.readRow(0, row)
        assertArrayEquals(floatArrayOf(1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f), row, 0f)
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
