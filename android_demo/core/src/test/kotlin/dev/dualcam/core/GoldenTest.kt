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
            assertClose("linear ${expected.height}x${expected.width}", expected, Resize.linear(image, expected.height, expected.width), 2e-6f)
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
    fun tiledChromaMatchesTheRuntime() {
        val g = Golden.section("tiled")
        val mono = Golden.image(g["mono"])
        val ref = Golden.image(g["ref_ycbcr"])
        val th = g.int("tile_height")
        val tw = g.int("tile_width")
        val d = g.int("max_disparity")
        for (case in Golden.list(g["cases"])) {
            val scale = case.number("scale")
            val smallMono = ChromaScale.downscale(mono, scale)
            val grid = TileGrid(smallMono.height, smallMono.width, th, tw, d, Tiling.defaultOverlap(th, tw))
            val probe = ProbeBackend(th, tw, d)
            val cbcr = ChromaScale.upscale(mono, grid.run(probe, smallMono, ChromaScale.downscale(ref, scale)), scale)
            assertEquals("tiles run at scale $scale", grid.size, probe.calls)
            assertClose("chroma at scale $scale", Golden.image(case["cbcr"]), cbcr, 1e-5f)
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
