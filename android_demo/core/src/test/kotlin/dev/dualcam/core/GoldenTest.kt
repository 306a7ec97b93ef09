package dev.dualcam.core

import dev.dualcam.core.Golden.assertClose
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/** The core against what the Python runtime computes on the same inputs (golden.json). */
class GoldenTest {
    @Test
    fun ycbcrConversionMatchesTheRuntime() {
        val g = Golden.section("color")
        val rgb = Golden.floats(g["rgb"])
        val n = rgb.size / 3
        assertClose("rgb -> ycbcr", Golden.floats(g["ycbcr"]), Color.rgbToYcbcr(FloatImage(n, 1, 3, rgb)).data, 1e-6f)
        val any = FloatImage(n, 1, 3, Golden.floats(g["any_ycbcr"]))
        assertClose("ycbcr -> rgb", Golden.floats(g["to_rgb"]), Color.ycbcrToRgb(any, clip = false).data, 2e-6f)
        assertClose("ycbcr -> rgb, clipped", Golden.floats(g["to_rgb_clipped"]), Color.ycbcrToRgb(any).data, 2e-6f)
    }

    @Test
    fun candidateWindowMatchesTheRuntime() {
        val g = Golden.section("candidate_window")
        val manifest = Manifests.shipped()
        assertEquals("range margin in the manifest", g.number("range_margin"), manifest.rangeMargin, 0.0)
        assertEquals("min scale in the manifest", g.number("min_scale"), manifest.minScale, 0.0)
        for (case in Golden.list(g["cases"])) {
            val measured = case["measured"]?.let { Golden.doubles(it).let { (low, high) -> Pair(low, high) } }
            val model = ModelManifest(256, 512, case.int("max_disparity"), 32, manifest.rangeMargin, manifest.minScale, emptyMap())
            val (scale, offset) = model.window(measured)
            val expected = Golden.doubles(case["window"])
            assertEquals("scale for $measured px with d ${model.maxDisparity}", expected[0], scale, 1e-15)
            assertEquals("offset for $measured px with d ${model.maxDisparity}", expected[1].toInt(), offset)
        }
    }

    @Test
    fun tileStartsMatchTheRuntime() {
        for (case in Golden.list(Golden.root["tile_starts"])) {
            val starts = Tiling.tileStarts(case.int("length"), case.int("tile"), case.int("overlap"))
            assertArrayEquals("starts for $case", Golden.ints(case["starts"]), starts)
        }
    }

    @Test
    fun blendWeightsMatchTheRuntime() {
        for (case in Golden.list(Golden.root["ramp_weights"])) {
            val weights = Tiling.rampWeights(Golden.ints(case["starts"]), case.int("tile"), case.int("length"))
            val expected = case["weights"] as List<*>
            assertEquals(expected.size, weights.size)
            for (i in weights.indices) assertArrayEquals("weights of tile $i, ${case["length"]} px", Golden.floats(expected[i]), weights[i], 0f)
        }
    }

    @Test
    fun memoryPlansMatchTheRuntime() {
        val manifest = Manifests.shipped()
        var refused = 0
        var withoutArena = 0
        for (case in Golden.list(Golden.root["memory_plans"])) {
            val colorPixels = (case["color_pixels"] as Double?)?.toLong()
            val working = case["working"]?.let { Golden.ints(it) }?.let { Pair(it[0], it[1]) }
            val what = "memory for ${case["width"]}x${case["height"]} (frame $working), colour $colorPixels px, ${case["role"]}, ${case["budget_mb"]} MB"
            try {
                val plan = Planner.memory(case.int("height"), case.int("width"), case.text("role"), manifest, case.int("budget_mb"), colorPixels, working)
                if ("error" in case) fail("$what: the runtime refuses it (${case["error"]})")
                assertEquals("$what: arena", case["memory_arena"], plan.memoryArena)
                assertEquals("$what: estimate", case.int("estimated_peak_mb"), plan.estimatedPeakMb)
                if (!plan.memoryArena) withoutArena++
            } catch (error: BudgetError) {
                assertEquals(what, case["error"], error.message)
                refused++
            }
        }
        assertTrue("some budgets are too small", refused > 0)
        assertTrue("some budgets fit only without the arena", withoutArena > 0)
    }

    @Test
    fun tileGridsMatchTheRuntime() {
        val manifest = Manifests.shipped()
        for (case in Golden.list(Golden.root["grids"])) {
            val transposed = case["transposed"] as Boolean
            val what = "grid for ${case["width"]}x${case["height"]} at scale ${case["scale"]}${if (transposed) ", transposed" else ""}"
            val (height, width) = Arrangement(case.int("height"), case.int("width"), transposed, scale = case.number("scale")).shape
            val grid = manifest.grid(height, width)
            val expected = case.obj("grid")
            assertEquals("$what: size", listOf(expected.int("height"), expected.int("width")), listOf(grid.height, grid.width))
            assertArrayEquals("$what: rows", Golden.ints(expected["rows"]), grid.rows)
            assertArrayEquals("$what: cols", Golden.ints(expected["cols"]), grid.cols)
            assertEquals("$what: overlap", expected.int("overlap"), grid.overlap)
        }
    }

    @Test
    fun openCvFiltersMatchTheRuntime() {
        val g = Golden.section("filters")
        val image = Golden.image(g["image"])
        for (expected in Golden.list(g["area"]).map { Golden.image(it) }) {
            assertClose("area ${expected.height}x${expected.width}", expected, Resize.area(image, expected.height, expected.width), 2e-6f)
        }
        for (expected in Golden.list(g["linear"]).map { Golden.image(it) }) {
            val rows = Resize.linearRows(image, expected.width)
            assertClose("linear rows to ${expected.width}", expected, FloatImage(image.height, expected.width, image.channels,
                rows.fold(FloatArray(0)) { all, row -> all + row }), 2e-6f)
        }
        for (case in Golden.list(g["box"])) {
            assertClose("box radius ${case["radius"]}", Golden.image(case["result"]), Resize.box(image, case.int("radius")), 2e-6f)
        }
    }

    @Test
    fun guidedUpsamplingMatchesTheRuntime() {
        val g = Golden.section("guided_upsample")
        assertEquals(g.int("radius"), Guided.RADIUS)
        assertEquals(g.number("eps").toFloat(), Guided.EPS)
        assertClose("guided upsampling", Golden.image(g["result"]), Guided.upsample(Golden.image(g["guide"]), Golden.image(g["low"])), 1e-5f)
    }

    @Test
    fun chromaFilterMatchesTheRuntime() {
        val g = Golden.section("chroma_filter")
        assertEquals(g.int("radius"), Guided.FILTER_RADIUS)
        assertEquals(g.number("eps").toFloat(), Guided.FILTER_EPS)
        assertClose("chroma filter", Golden.image(g["result"]), Guided.filter(Golden.image(g["guide"]), Golden.image(g["chroma"])), 1e-5f)
    }

    /** The 8-bit RGB samples the runtime wrote: at most 1 % of them one level apart (float32 rounding at .5). */
    private fun assertRgbClose(what: String, expected: IntArray, image: Collected) {
        val actual = image.samples()
        assertEquals("$what: samples", expected.size, actual.size)
        val apart = expected.indices.filter { expected[it] != actual[it] }
        assertTrue("$what: ${apart.size} samples differ, up to ${apart.map { Math.abs(expected[it] - actual[it]) }.max()} levels",
            apart.size <= expected.size / 100 && apart.all { Math.abs(expected[it] - actual[it]) <= 1 })
    }

    @Test
    fun pipelineMatchesTheRuntime() {
        val g = Golden.section("pipeline")
        val mono = Golden.image(g["mono"])
        val color = Golden.image(g["color"])
        val manifest = ModelManifest(g.int("tile_height"), g.int("tile_width"), g.int("max_disparity"), g.int("overlap"),
            0.85, 0.125, emptyMap())
        val cases = Golden.list(g["cases"])
        assertTrue("portrait and landscape, both sides", cases.map { Pair(it["transposed"], it["flipped"]) }.toSet().size == 4)
        for (case in cases) {
            val scale = case.number("scale")
            val offset = case.int("offset")
            val arrangement = Arrangement(mono.height, mono.width, case["transposed"] as Boolean, case["flipped"] as Boolean,
                scale, offset = offset)
            val what = "${if (arrangement.transposed) "transposed" else "landscape"}, ${if (arrangement.flipped) "flipped" else "as given"}, scale $scale, offset $offset"
            val probe = ProbeBackend(manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity)
            val prediction = Chroma.predict(mono, color, arrangement, manifest, probe)
            assertEquals("$what: tiles", case.int("tiles"), prediction.grid.size)
            assertEquals("$what: tiles run", case.int("tiles"), probe.calls)
            val expected = Golden.image(case["cbcr_low"])
            assertClose("$what: chroma at the working scale", expected, prediction.cbcr, 1e-5f)
            val merged = Collected(mono.height, mono.width)
            Chroma.merge(mono, prediction.cbcr, merged)
            assertRgbClose(what, Golden.ints(case["rgb"]), merged)
            if (arrangement.transposed) continue
            // The Colorizer reaches the same arrangement from the camera side and the disparity range that gives this
            // working scale and offset (random images have nothing to match: taken as they are), and runs the same stages.
            val slack = ChromaScale.lowSlack(manifest.maxDisparity, manifest.rangeMargin)
            val lowest = (offset + slack + 0.5) / scale  // candidateWindow's start, inverted
            val disparities = when {
                offset != 0 -> Pair(lowest, lowest + (manifest.rangeMargin * manifest.maxDisparity - slack - 1) / scale)
                scale == 1.0 -> null
                else -> Pair(0.0, manifest.rangeMargin * manifest.maxDisparity / scale)
            }
            val side = if (arrangement.flipped) CameraSide.RIGHT else CameraSide.LEFT
            val colorizerProbe = ProbeBackend(manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity)
            val colored = Collected(mono.height, mono.width)
            val result = TileSession(manifest, "int8") { colorizerProbe }.use {
                Colorizer(it).colorize(mono, color, colored, GeometryOptions(side, disparities, acceptUnverified = true))
            }
            assertEquals(what, scale, result.scale, 1e-12)
            assertEquals(what, offset, result.geometry.arrangement.offset)
            assertEquals(what, arrangement.flipped, result.flipped)
            assertEquals("$what: Colorizer's tiles", case.int("tiles"), result.grid.size)
            assertEquals("$what: Colorizer's tiles run", case.int("tiles"), colorizerProbe.calls)
            assertClose("$what: Colorizer's chroma", expected, result.chroma, 1e-5f)
            assertRgbClose("$what: Colorizer", Golden.ints(case["rgb"]), colored)
        }
    }

    @Test
    fun manifestReadsAsTheRuntimeReadsIt() {
        val g = Golden.section("manifest")
        val manifest = Manifests.shipped()
        assertEquals(listOf(g.int("tile_height"), g.int("tile_width"), g.int("max_disparity"), g.int("overlap")),
            listOf(manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, manifest.overlap))
        assertEquals(listOf(g.number("range_margin"), g.number("min_scale")), listOf(manifest.rangeMargin, manifest.minScale))
        val files = g.obj("files")
        assertEquals(files.keys, manifest.files.keys)
        for ((role, entry) in files) {
            @Suppress("UNCHECKED_CAST")
            val e = entry as Map<String, Any?>
            assertEquals(e["file"], manifest.model(role).file)
            assertEquals(e["sha256"], manifest.model(role).sha256)
        }
    }
}
