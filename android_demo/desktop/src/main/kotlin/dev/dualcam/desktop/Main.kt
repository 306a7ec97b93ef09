package dev.dualcam.desktop

import dev.dualcam.core.Benchmark
import dev.dualcam.core.ByteImage
import dev.dualcam.core.CameraSide
import dev.dualcam.core.Colorizer
import dev.dualcam.core.Failure
import dev.dualcam.core.GeometryOptions
import dev.dualcam.core.ModelManifest
import dev.dualcam.core.Raster
import dev.dualcam.core.ShortImage
import dev.dualcam.core.TileSession
import java.io.File
import java.util.Locale
import javax.imageio.ImageIO
import kotlin.system.exitProcess

const val USAGE = """usage:
  dualcam-jvm colorize MONO COLOR -o OUT [--side left|right] [--max-disparity PX [--min-disparity PX]] [--rectify]
                       [--accept-unverified]
                       [--model ROLE] [--models DIR] [--budget MB] [--threads N]
  dualcam-jvm bench MONO COLOR [--provider cpu] [--model ROLE] [--models DIR] [--repeats N] [--threads N]
The Kotlin core with onnxruntime's C API on the desktop JVM. The pair's geometry is measured as dualcam-run
measures it (the colour camera's side, portrait or landscape, a colour image of another size brought onto the mono
grid, the disparity range and so the working scale and where the candidates start; a misaligned or unverifiable pair
is refused, exit code 2); --side and --max-disparity (with --min-disparity, default 0) give the side or the disparity
range (full-resolution px) instead. The output is an
8-bit PNG, written a strip at a time."""

/**
 * A PNG's samples as stored (8 or 16 bit, grey or RGB), without Java's colour management: the bytes or shorts
 * themselves, read a row at a time, so the decoded image is the only other copy.
 */
fun readImage(file: File): Raster {
    val image = ImageIO.read(file) ?: throw IllegalArgumentException("$file: not an image Java can read")
    val raster = image.raster
    val bands = if (raster.numBands >= 3) 3 else 1
    val sixteen = image.colorModel.getComponentSize(0) > 8
    val out = if (sixteen) ShortImage(image.height, image.width, bands) else ByteImage(image.height, image.width, bands)
    val row = IntArray(image.width * raster.numBands)
    for (y in 0 until image.height) {
        raster.getPixels(0, y, image.width, 1, row)
        for (x in 0 until image.width) for (c in 0 until bands) {
            val at = (y * image.width + x) * bands + c
            val sample = row[x * raster.numBands + c]
            if (out is ShortImage) out.data[at] = sample.toShort() else (out as ByteImage).data[at] = sample.toByte()
        }
    }
    return out
}

/** The mono camera's image as the runtime reads it: grey, or the grey levels of an RGB file whose channels agree, else luma. */
fun mono(image: Raster): Raster = when (image) {
    is ByteImage -> image.asMono()
    is ShortImage -> image.asMono()
    else -> image
}

/** `--name value` options and `--flag` switches after the positional arguments. */
class Options(args: List<String>, switches: Set<String> = setOf("rectify", "accept-unverified")) {
    val positional = args.takeWhile { !it.startsWith("-") }
    private val named = HashMap<String, String>()

    init {
        val rest = args.drop(positional.size)
        var i = 0
        while (i < rest.size) {
            val name = rest[i].removePrefix("--").removePrefix("-")
            if (name in switches) {
                named[name] = "true"
                i += 1
            } else {
                require(i + 1 < rest.size) { "${rest[i]} needs a value" }
                named[name] = rest[i + 1]
                i += 2
            }
        }
    }

    fun get(name: String, default: String? = null): String? = named[name] ?: default

    fun has(name: String): Boolean = name in named
}

private fun quote(text: String): String = "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\""

private fun seconds(value: Double) = String.format(Locale.ROOT, "%.3f", value)

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
        val (monoPath, colorPath) = options.positional
        val mono = mono(readImage(File(monoPath)))
        val color = readImage(File(colorPath))
        require(color.channels == 3) { "$colorPath: has no colour; the colour camera's image is needed here" }
        Colorizer.checkSize(mono, monoPath)
        Colorizer.checkSize(color, colorPath)
        fun backend(memoryArena: Boolean) =
            NativeOrtBackend(modelFile, manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, threads, memoryArena)
        if (args[0] == "bench") {
            // The app's benchmark mode with the JNI backend, whose onnxruntime (the Python wheel's) has the CPU provider only.
            val provider = options.get("provider", "cpu")!!
            val repeats = options.get("repeats", "5")!!.toInt()
            println(try {
                require(provider == "cpu") { "$provider is not in this onnxruntime build (it has: cpu)" }
                Benchmark.run(provider, role, manifest, mono, color, repeats) { backend(memoryArena = true) }.line()
            } catch (error: IllegalArgumentException) {
                Benchmark.errorLine(provider, error)
            })
            return
        }
        val output = File(options.get("o") ?: throw IllegalArgumentException("give the output with -o"))
        val side = when (options.get("side")) {
            null -> null
            "left" -> CameraSide.LEFT
            "right" -> CameraSide.RIGHT
            else -> throw IllegalArgumentException("--side is left or right")
        }
        val disparities = options.get("max-disparity")?.let { Pair(options.get("min-disparity", "0")!!.toDouble(), it.toDouble()) }
        val geometry = GeometryOptions(side, disparities, options.has("rectify"),
            options.has("accept-unverified"))
        val budget = options.get("budget", Colorizer.DEFAULT_BUDGET_MB.toString())!!.toInt()
        val result = PngWriter(output, mono.width, mono.height).use { png ->
            TileSession(manifest, role, ::backend).use {
                Colorizer(it).colorize(mono, color, png::rows, geometry, budget, monoName = monoPath, colorName = colorPath)
            }.also { png.finish() }
        }
        val measured = result.geometry
        val corrected = measured.after
        System.err.print(measured.warnings.joinToString("") { "dualcam-jvm: warning: $it\n" })
        println("{\"output\": ${quote(output.path)}, \"camera_side\": \"${measured.cameraSide.label}\", " +
            "\"transposed\": ${measured.arrangement.transposed}, \"flipped\": ${result.flipped}, " +
            "\"corrected\": ${measured.arrangement.colorToMono != null}, " +
            "\"vertical_error_px\": ${(corrected ?: measured.before).verticalError.takeIf { it.isFinite() }}, " +
            "\"disparity_min_px\": ${measured.disparities?.first}, \"disparity_max_px\": ${measured.disparities?.second}, " +
            "\"chroma_scale\": ${result.scale}, \"candidate_offset\": ${measured.arrangement.offset}, \"tiles\": ${result.grid.size}, " +
            "\"memory_arena\": ${result.memory.memoryArena}, \"geometry_seconds\": ${seconds(result.geometrySeconds)}, " +
            "\"model_seconds\": ${seconds(result.modelSeconds)}, \"total_seconds\": ${seconds(result.totalSeconds)}, " +
            "\"peak_rss_mb\": ${Benchmark.peakResidentMb()}, \"max_heap_mb\": ${Runtime.getRuntime().maxMemory() shr 20}, " +
            "\"warnings\": [${measured.warnings.joinToString(", ") { quote(it) }}]}")
    } catch (error: IllegalArgumentException) {  // bad input, a refused pair (GeometryError) included
        System.err.println("dualcam-jvm: ${error.message}")
        exitProcess(2)
    } catch (error: OutOfMemoryError) {
        System.err.println("dualcam-jvm: ${Failure.describe(error)}")
        exitProcess(1)
    }
}
