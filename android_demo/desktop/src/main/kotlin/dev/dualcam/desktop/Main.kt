package dev.dualcam.desktop

import dev.dualcam.core.Benchmark
import dev.dualcam.core.CameraSide
import dev.dualcam.core.Color
import dev.dualcam.core.Colorizer
import dev.dualcam.core.FloatImage
import dev.dualcam.core.ModelManifest
import dev.dualcam.core.TileSession
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.ImageIO
import kotlin.system.exitProcess

const val USAGE = """usage:
  dualcam-jvm colorize MONO COLOR -o OUT [--side left|right] [--max-disparity PX] [--model ROLE] [--models DIR]
                       [--budget MB] [--threads N]
  dualcam-jvm bench MONO COLOR [--provider cpu] [--model ROLE] [--models DIR] [--repeats N] [--threads N]
The Kotlin core with onnxruntime's C API on the desktop JVM. The colour camera's side and the pair's largest
disparity come from the caller (dualcam-run --json reports both); without --max-disparity chroma is predicted at
full resolution."""

/** Reads a PNG's samples as stored (8 or 16 bit), without Java's colour management: (H, W, 1) or (H, W, 3). */
fun readImage(file: File): FloatImage {
    val image: BufferedImage = ImageIO.read(file) ?: throw IllegalArgumentException("$file: not an image Java can read")
    val raster = image.raster
    val peak = ((1L shl image.colorModel.getComponentSize(0)) - 1).toFloat()
    val bands = if (raster.numBands >= 3) 3 else 1
    val out = FloatImage(image.height, image.width, bands)
    val samples = IntArray(raster.numBands)
    for (y in 0 until image.height) for (x in 0 until image.width) {
        raster.getPixel(x, y, samples)
        for (c in 0 until bands) out[y, x, c] = samples[c].toFloat() / peak
    }
    return out
}

fun writePng(rgb: FloatImage, file: File) {
    val image = BufferedImage(rgb.width, rgb.height, BufferedImage.TYPE_INT_RGB)
    image.setRGB(0, 0, rgb.width, rgb.height, Color.toArgb(rgb), 0, rgb.width)
    if (!ImageIO.write(image, "png", file)) throw IllegalStateException("no PNG writer")
}

/** `--name value` options after the positional arguments. */
class Options(args: List<String>) {
    val positional = args.takeWhile { !it.startsWith("-") }
    private val named = args.drop(positional.size).chunked(2).associate { pair ->
        require(pair.size == 2) { "${pair[0]} needs a value" }
        pair[0].removePrefix("--").removePrefix("-") to pair[1]
    }

    fun get(name: String, default: String? = null): String? = named[name] ?: default
}

fun main(args: Array<String>) {
    if (args.isEmpty() || args[0] !in setOf("colorize", "bench")) {
        System.err.println(USAGE)
        exitProcess(2)
    }
    try {
        val options = Options(args.drop(1))
        require(options.positional.size == 2) { "give the mono and the colour image" }
        val models = File(options.get("models", "runtime/models")!!)
        val manifest = ModelManifest.parse(File(models, ModelManifest.MANIFEST).readText())
        val role = options.get("model", "int8")!!
        val modelFile = File(models, manifest.model(role).file)
        manifest.checkBytes(role, modelFile.readBytes())
        val threads = options.get("threads", "0")!!.toInt()
        val monoImage = readImage(File(options.positional[0]))
        val mono = if (monoImage.channels == 1) monoImage else Color.monoFromRgb(monoImage)
        val color = readImage(File(options.positional[1]))
        require(color.channels == 3) { "${options.positional[1]}: has no colour; the colour camera's image is needed here" }
        Colorizer.checkSize(mono, options.positional[0])
        Colorizer.checkSize(color, options.positional[1])
        fun backend(memoryArena: Boolean) =
            NativeOrtBackend(modelFile, manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, threads, memoryArena)
        if (args[0] == "bench") {
            // The app's benchmark mode with the JNI backend, whose onnxruntime (the Python wheel's) has the CPU provider only.
            val provider = options.get("provider", "cpu")!!
            val repeats = options.get("repeats", "5")!!.toInt()
            println(try {
                require(provider == "cpu") { "$provider is not in this onnxruntime build (it has: cpu)" }
                Benchmark.run(provider, role, manifest, mono, Color.rgbToYcbcr(color), repeats) { backend(memoryArena = true) }.line()
            } catch (error: IllegalArgumentException) {
                Benchmark.errorLine(provider, error)
            })
            return
        }
        val output = File(options.get("o") ?: throw IllegalArgumentException("give the output with -o"))
        val side = when (options.get("side", "left")) {
            "left" -> CameraSide.LEFT
            "right" -> CameraSide.RIGHT
            else -> throw IllegalArgumentException("--side is left or right")
        }
        val disparity = options.get("max-disparity")?.toDouble()
        val budget = options.get("budget", Colorizer.DEFAULT_BUDGET_MB.toString())!!.toInt()
        val result = TileSession(manifest, role, ::backend).use { Colorizer(it).colorize(mono, color, side, disparity, budget) }
        writePng(result.rgb, output)
        println("{\"output\": \"$output\", \"chroma_scale\": ${result.scale}, \"tiles\": ${result.grid.size}, " +
            "\"memory_arena\": ${result.memory.memoryArena}, \"flipped\": ${result.flipped}, " +
            "\"model_seconds\": ${"%.3f".format(java.util.Locale.ROOT, result.modelSeconds)}, " +
            "\"total_seconds\": ${"%.3f".format(java.util.Locale.ROOT, result.totalSeconds)}, \"peak_rss_mb\": ${Benchmark.peakResidentMb()}}")
    } catch (error: IllegalArgumentException) {
        System.err.println("dualcam-jvm: ${error.message}")
        exitProcess(2)
    }
}
