package dev.dualcam.core

import java.io.File

/**
 * The benchmark mode of the app (and of the desktop JVM build): one tile through a backend, a warm-up and then
 * timed repeats, with the process's peak memory. Each provider runs in a fresh process so its peak is its own.
 * It prints one line per provider, `DUALCAM_BENCH {json}` (or `DUALCAM_BENCH_ERROR {json}` where the provider
 * could not run), which tools/device_bench.py reads from logcat.
 */
object Benchmark {
    const val TAG = "DUALCAM_BENCH"
    const val ERROR_TAG = "DUALCAM_BENCH_ERROR"
    const val PART_TAG = "DUALCAM_BENCH_PART"

    /**
     * Characters per logcat entry. Android cuts a log message at about 4,000 bytes (LOGGER_ENTRY_MAX_PAYLOAD, tag
     * included); 1,000 UTF-16 characters are at most 3,000 bytes of UTF-8.
     */
    const val LOG_CHUNK = 1000

    /** The line for a provider that could not run: the table shows why instead of a number. */
    fun errorLine(provider: String, error: Throwable): String =
        "$ERROR_TAG {\"provider\": ${quote(provider)}, \"error\": ${quote(Failure.describe(error))}}"

    /**
     * A line as logcat entries that each fit its limit: the line itself when short, else `DUALCAM_BENCH_PART i/n text`
     * pieces, which device_bench.py joins back (an onnxruntime error can run to several kilobytes).
     */
    fun logEntries(line: String, limit: Int = LOG_CHUNK): List<String> {
        if (line.length <= limit) return listOf(line)
        val pieces = mutableListOf<String>()
        var start = 0
        while (start < line.length) {
            var end = minOf(start + limit, line.length)
            if (end < line.length && Character.isHighSurrogate(line[end - 1])) end -= 1  // keep a surrogate pair whole
            pieces.add(line.substring(start, end))
            start = end
        }
        return pieces.mapIndexed { i, piece -> "$PART_TAG ${i + 1}/${pieces.size} $piece" }
    }

    /** A JSON string: control characters escaped too, since Python's json refuses them raw. */
    private fun quote(text: String): String {
        val out = StringBuilder("\"")
        for (c in text) {
            when {
                c == '"' || c == '\\' -> out.append('\\').append(c)
                c == '\n' -> out.append("\\n")
                c < ' ' -> out.append(String.format(java.util.Locale.ROOT, "\\u%04x", c.toInt()))
                else -> out.append(c)
            }
        }
        return out.append('"').toString()
    }

    class Result(val provider: String, val model: String, val tile: String, val loadSeconds: Double,
                 val seconds: List<Double>, val peakRssMb: Double?) {
        val median: Double get() = seconds.sorted().let { s -> if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2 }

        /** One line, JSON after the tag, numbers in seconds and MB. */
        fun line(): String = "$TAG {\"provider\": ${quote(provider)}, \"model\": ${quote(model)}, \"tile\": \"$tile\", " +
            "\"load_seconds\": ${"%.4f".format(java.util.Locale.ROOT, loadSeconds)}, " +
            "\"median\": ${"%.4f".format(java.util.Locale.ROOT, median)}, \"min\": ${"%.4f".format(java.util.Locale.ROOT, seconds.sorted().first())}, " +
            "\"max\": ${"%.4f".format(java.util.Locale.ROOT, seconds.sorted().last())}, \"repeats\": ${seconds.size}, " +
            "\"peak_rss_mb\": ${peakRssMb?.let { "%.1f".format(java.util.Locale.ROOT, it) } ?: "null"}}"
    }

    /**
     * Times `repeats` runs of the pair's top-left tile (mono Y and colour RGB as given) after one warm-up; `open` builds
     * the backend and is timed as loading.
     */
    fun run(provider: String, model: String, manifest: ModelManifest, monoY: Raster, colorRgb: Raster,
            repeats: Int, open: () -> InferenceBackend): Result {
        val loadStart = System.nanoTime()
        open().use { backend ->
            val loadSeconds = (System.nanoTime() - loadStart) / 1e9
            val grid = TileGrid(monoY.height, monoY.width, manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity, 0)
            val frame = Arrangement(monoY.height, monoY.width)
            val rows = minOf(manifest.tileHeight, monoY.height)
            // The tile benchmarks/onnx_latency.py times.
            val tile = grid.inputs(0, 0, frame.monoRows(monoY, 0, rows), frame.referenceRows(colorRgb, 0, rows))
            backend.runTile(tile.monoY, tile.refY, tile.refCbcr)
            val seconds = (1..repeats).map {
                val start = System.nanoTime()
                backend.runTile(tile.monoY, tile.refY, tile.refCbcr)
                (System.nanoTime() - start) / 1e9
            }
            return Result(provider, model, "${manifest.tileHeight}x${manifest.tileWidth}", loadSeconds, seconds, peakResidentMb())
        }
    }

    /** This process's peak resident memory (VmHWM, Linux and Android), or null where the kernel does not say. */
    fun peakResidentMb(): Double? = try {
        File("/proc/self/status").readLines().firstOrNull { it.startsWith("VmHWM:") }
            ?.split(Regex("\\s+"))?.get(1)?.toDouble()?.div(1024)
    } catch (e: java.io.IOException) {
        null
    }
}
