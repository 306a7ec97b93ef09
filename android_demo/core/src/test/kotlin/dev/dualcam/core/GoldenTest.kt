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
    fun workingScaleMatchesTheRuntime() {
        val g = Golden.section("working_scale")
        val manifest = Manifests.shipped()
        assertEquals("range margin in the manifest", g.number("range_margin"), manifest.rangeMargin, 0.0)
        assertEquals("min scale in the manifest", g.number("min_scale"), manifest.minScale, 0.0)
        for (case in Golden.list(g["cases"])) {
            val measured = case["measured"] as Double?
            val scale = ChromaScale.workingScale(measured, case.int("max_disparity"), manifest.rangeMargin, manifest.minScale)
            assertEquals("scale for $measured px with d ${case.int("max_disparity")}", case.number("scale"), scale, 1e-15)
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
    fun tilePlansMatchTheRuntime() {
        val manifest = Manifests.shipped()
        var refused = 0
        for (case in Golden.list(Golden.root["plans"])) {
            val what = "plan for ${case["width"]}x${case["height"]} at scale ${case["scale"]}, ${case["role"]}, ${case["budget_mb"]} MB"
            try {
                val plan = Planner.plan(case.int("height"), case.int("width"), case.number("scale"), case.text("role"),
                    manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, case.int("budget_mb"))
                if ("error" in case) fail("$what: the runtime refuses it (${case["error"]})")
                val grid = case.obj("grid")
                assertEquals("$what: size", listOf(grid.int("height"), grid.int("width")), listOf(plan.grid.height, plan.grid.width))
                assertArrayEquals("$what: rows", Golden.ints(grid["rows"]), plan.grid.rows)
                assertArrayEquals("$what: cols", Golden.ints(grid["cols"]), plan.grid.cols)
                assertEquals("$what: overlap", grid.int("overlap"), plan.grid.overlap)
                assertEquals("$what: arena", case["memory_arena"], plan.memoryArena)
                assertEquals("$what: estimate", case.int("estimated_peak_mb"), plan.estimatedPeakMb)
            } catch (error: BudgetError) {
                assertEquals(what, case["error"], error.message)
                refused++
            }
        }
        assertTrue("some budgets are too small", refused > 0)
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

    @Test
    fun pipelineMatchesTheRuntime() {
        val g = Golden.section("pipeline")
        val mono = Golden.image(g["mono"])
        val color = Golden.image(g["color"])
        val d = g.int("max_disparity")
        val manifest = ModelManifest(g.int("tile_height"), g.int("tile_width"), d, 0.85, 0.125, emptyMap())
        for (case in Golden.list(g["cases"])) {
            val scale = case.number("scale")
            val side = if (case["side"] == "right") CameraSide.RIGHT else CameraSide.LEFT
            val what = "${case["side"]} at scale $scale"
            // The largest disparity that gives this working scale.
            val disparity = if (scale == 1.0) null else manifest.rangeMargin * d / scale
            val probe = ProbeBackend(manifest.tileHeight, manifest.tileWidth, d)
            val result = Colorizer(manifest, "int8", probe).colorize(mono, color, side, disparity)
            assertEquals(what, scale, result.scale, 1e-12)
            assertEquals("$what: tiles run", result.plan.grid.size, probe.calls)
            assertClose("$what: chroma at the working scale", Golden.image(case["cbcr_low"]), result.chroma, 1e-5f)
            val expected = Golden.ints(case["rgb"])
            val actual = Color.toArgb(result.rgb).flatMap { listOf((it shr 16) and 0xff, (it shr 8) and 0xff, it and 0xff) }
            val apart = expected.indices.filter { expected[it] != actual[it] }
            assertTrue("$what: ${apart.size} samples differ, up to ${apart.map { Math.abs(expected[it] - actual[it]) }.max()} levels",
                apart.size <= expected.size / 100 && apart.all { Math.abs(expected[it] - actual[it]) <= 1 })
        }
    }

    @Test
    fun manifestReadsAsTheRuntimeReadsIt() {
        val g = Golden.section("manifest")
        val manifest = Manifests.shipped()
        assertEquals(listOf(g.int("tile_height"), g.int("tile_width"), g.int("max_disparity")),
            listOf(manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity))
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
