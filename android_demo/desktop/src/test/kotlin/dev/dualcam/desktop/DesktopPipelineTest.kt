package dev.dualcam.desktop

import dev.dualcam.core.CameraSide
import dev.dualcam.core.Collected
import dev.dualcam.core.Color
import dev.dualcam.core.Colorized
import dev.dualcam.core.Colorizer
import dev.dualcam.core.GeometryOptions
import dev.dualcam.core.Golden
import dev.dualcam.core.Manifests
import dev.dualcam.core.Pairs
import dev.dualcam.core.Raster
import dev.dualcam.core.TileSession
import dev.dualcam.core.number
import dev.dualcam.core.text
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import javax.imageio.ImageIO

/**
 * The whole pipeline end to end through the JNI backend (onnxruntime's C API, the shipped int8 model): the sample pair
 * read as the CLI reads it, measured by the Kotlin geometry and coloured, against the same pair coloured with the
 * geometry dualcam-run measured (golden.json); tests/test_android_core.py compares the CLI's images with dualcam-run's
 * own.
 */
class DesktopPipelineTest {
    private val manifest = Manifests.shipped()
    private val mono = mono(readImage(File(System.getProperty("dualcam.samples"), "motorcycle_mono.png")))
    private val color = readImage(File(System.getProperty("dualcam.samples"), "motorcycle_color.png"))

    private fun colorize(options: GeometryOptions): Pair<Colorized, Collected> {
        val model = File(Manifests.folder, manifest.model("int8").file)
        val image = Collected(mono.height, mono.width)
        val result = TileSession(manifest, "int8") { arena ->
            NativeOrtBackend(model, manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, memoryArena = arena)
        }.use { Colorizer(it).colorize(mono, color, image, options) }
        return Pair(result, image)
    }

    /** CPSNR of the image's chroma against the true colours of the mono view (the Middlebury right view). */
    private fun cpsnr(image: Collected, truth: Raster): Double {
        var squared = 0.0
        for (i in image.pixels.indices) {
            val y = i / image.width
            val x = i % image.width
            val rgb = (0..2).map { ((image.pixels[i] shr (16 - 8 * it)) and 0xff) / 255f }
            val t = (0..2).map { truth[y, x, it] }
            fun cb(v: List<Float>) = Color.CB_SCALE * (v[2] - Color.luma(v[0], v[1], v[2])) + 0.5f
            fun cr(v: List<Float>) = Color.CR_SCALE * (v[0] - Color.luma(v[0], v[1], v[2])) + 0.5f
            squared += Math.pow((cb(rgb) - cb(t)).toDouble(), 2.0) + Math.pow((cr(rgb) - cr(t)).toDouble(), 2.0)
        }
        return 10 * Math.log10(1 / (squared / (2 * image.pixels.size)))
    }

    @Test
    fun samplePairThroughTheJniBackendIsMeasuredAndColouredAsDualcamRunColoursIt() {
        val runtime = Golden.list(Golden.root["geometry_cases"]).first { it["name"] == "sample" }
        val (measured, image) = colorize(GeometryOptions())
        assertEquals(runtime.text("camera_side"), measured.geometry.cameraSide.label)
        assertFalse(measured.geometry.arrangement.transposed)
        assertEquals(runtime.number("chroma_scale"), measured.scale, 0.1 * runtime.number("chroma_scale"))
        val disparities = Golden.doubles(runtime["disparities"]).let { (low, high) -> Pair(low, high) }
        val (given, reference) = colorize(GeometryOptions(CameraSide.LEFT, disparities))
        assertEquals(runtime.number("chroma_scale"), given.scale, 1e-12)
        assertEquals(given.grid.size, measured.grid.size)
        val truth = Pairs.motorcycleRight
        val withMeasured = cpsnr(image, truth)
        val withRuntimes = cpsnr(reference, truth)
        assertTrue("CPSNR $withMeasured dB with the Kotlin geometry, $withRuntimes dB with the runtime's",
            Math.abs(withMeasured - withRuntimes) <= 0.1 && withRuntimes > 30)
        // The output's luma is the mono image where no channel is clipped.
        val samples = image.samples()
        for (i in 0 until mono.height * mono.width step 7) {
            val levels = (0..2).map { samples[3 * i + it] }
            if (levels.any { it == 0 || it == 255 }) continue
            assertEquals(mono[i / mono.width, i % mono.width], Color.luma(levels[0] / 255f, levels[1] / 255f, levels[2] / 255f),
                0.5f / 255 + 1e-6f)
        }
    }

    @Test
    fun pngWriterWritesTheStripsItIsGivenAndNothingWhenUnfinished() {
        val width = 37
        val height = 29
        val pixels = IntArray(width * height) { (0xff shl 24) or ((it * 2654435761L).toInt() and 0xffffff) }
        val file = File.createTempFile("dualcam", ".png")
        PngWriter(file, width, height).use { png ->
            for (top in 0 until height step 8) {
                val count = minOf(8, height - top)
                png.rows(top, pixels.copyOfRange(top * width, (top + count) * width), count)
            }
            png.finish()
        }
        val read = ImageIO.read(file)
        assertEquals(listOf(width, height), listOf(read.width, read.height))
        for (i in pixels.indices) assertEquals("pixel $i", pixels[i], read.getRGB(i % width, i / width))
        file.delete()
        PngWriter(file, width, height).use { png -> png.rows(0, pixels, 8) }
        assertFalse("an unfinished image leaves no file", file.exists() || File(file.parentFile, ".${file.name}.partial").exists())
    }

    @Test
    fun optionsTakeSwitchesAndValues() {
        val options = Options(listOf("m.png", "c.png", "--rectify", "-o", "out.png", "--max-disparity", "150"))
        assertEquals(listOf("m.png", "c.png"), options.positional)
        assertTrue(options.has("rectify") && !options.has("accept-unverified"))
        assertEquals("out.png", options.get("o"))
        assertEquals("150", options.get("max-disparity"))
    }
}
