package dev.dualcam.core

import java.security.MessageDigest

/** A model or data file the export listed, with the checksum its bytes must have. */
class ModelFile(val role: String, val file: String, val sha256: String, val bytes: Long, val format: String)

/** Raised for a manifest or model file that is not what dualcam-export wrote: the message names the file. */
class ModelError(message: String) : IllegalArgumentException(message)

/**
 * What the runtime needs from manifest.json (as dualcam.runtime.manifest reads it into a ModelSpec): the fixed tile,
 * the number of disparity candidates d, the tiles' overlap, the chroma working-scale rule and each file with its
 * sha256. The exporter decided these, so they are read from here and nowhere else.
 */
class ModelManifest(
    val tileHeight: Int,
    val tileWidth: Int,
    val maxDisparity: Int,
    /** Px at the working scale between neighbouring tiles. */
    val overlap: Int,
    val rangeMargin: Double,
    val minScale: Double,
    val files: Map<String, ModelFile>
) {
    /** Pixels of one tile's reference window, tile height x (tile width + d): what a session's memory follows. */
    val referencePixels: Int get() = tileHeight * (tileWidth + maxDisparity)

    /** The tiles covering an image of (height, width) at the working scale. */
    fun grid(height: Int, width: Int): TileGrid = TileGrid(height, width, tileHeight, tileWidth, maxDisparity, overlap)

    /**
     * (working scale, candidate offset) for a pair whose disparities in the network's frame span `disparities`
     * (smallest, largest; full-resolution px; null: unmeasured).
     */
    fun window(disparities: Pair<Double, Double>?): Pair<Double, Int> =
        ChromaScale.candidateWindow(disparities, maxDisparity, rangeMargin, minScale)

    /** The file exported for `role` (int8, fp32, mobile, mobile_int8, and the _ort files of the last three). */
    fun model(role: String): ModelFile =
        files[role] ?: throw ModelError("$MANIFEST has no '$role' model (it has: ${files.keys.joinToString(", ")})")

    /** Refuses bytes that differ from what was exported, as the Python runtime does before it opens a model. */
    fun checkBytes(role: String, data: ByteArray): ByteArray {
        val entry = model(role)
        if (sha256(data) != entry.sha256) {
            throw ModelError("${entry.file}: checksum differs from the manifest: the file was changed or corrupted; export it again")
        }
        return data
    }

    companion object {
        const val MANIFEST = "manifest.json"

        fun parse(text: String): ModelManifest {
            val root = Json.parse(text) as? Map<*, *> ?: throw ModelError("$MANIFEST: not a JSON object")
            @Suppress("UNCHECKED_CAST")
            val manifest = root as Map<String, Any?>
            val missing = listOf("files", "max_disparity", "tile").filter { it !in manifest }
            if (missing.isNotEmpty()) throw ModelError("$MANIFEST: not a dualcam manifest (no ${missing.joinToString(", ")})")
            val tile = manifest.obj("tile")
            val rule = manifest.obj("chroma_working_scale")
            val files = manifest.obj("files").mapValues { (role, entry) ->
                @Suppress("UNCHECKED_CAST")
                val e = entry as Map<String, Any?>
                ModelFile(role, e.text("file"), e.text("sha256"), e.number("bytes").toLong(), e.text("format"))
            }
            val height = tile.int("height")
            val width = tile.int("width")
            val overlap = tile.int("overlap")
            // Checked here, where the message can name the field, rather than when the first grid is made.
            val largest = (minOf(height, width) - 1) / 2
            if (overlap !in 0..largest) throw ModelError("$MANIFEST: 'overlap' must be an int from 0 to $largest, not $overlap")
            return ModelManifest(height, width, manifest.int("max_disparity"), overlap, rule.number("range_margin"),
                rule.number("min_scale"), files)
        }

        fun sha256(data: ByteArray): String =
            MessageDigest.getInstance("SHA-256").digest(data).joinToString("") { "%02x".format(it.toInt() and 0xff) }
    }
}

/**
 * onnxruntime execution providers an Android build has. NNAPI takes the 2-D mobile graph (no 3-D convolution), in
 * its int8 QDQ form where the export has one (NPUs reach their speed in int8; NNAPI takes that graph whole in one
 * partition), else in fp32; the CPU providers run the int8 model, as dualcam.runtime.providers chooses.
 * XNNPACK is the app's default: onnxruntime-android's fast CPU path, which needs no vendor driver.
 */
enum class Provider(val label: String, val title: String, private val roles: List<String>) {
    NNAPI("nnapi", "NNAPI", listOf("mobile_int8_ort", "mobile_ort")),
    XNNPACK("xnnpack", "XNNPACK", listOf("int8_ort")),
    CPU("cpu", "CPU", listOf("int8_ort"));

    /** The model this provider runs from `manifest`: the first of its roles the export has. */
    fun role(manifest: ModelManifest): String = roles.firstOrNull { it in manifest.files } ?: roles.last()

    /**
     * The provider to suggest when this one fails: NNAPI depends on the phone's drivers, XNNPACK on the CPU's
     * instruction set, and onnxruntime's own CPU kernels run everywhere.
     */
    val next: Provider? get() = when (this) {
        NNAPI -> XNNPACK
        XNNPACK -> CPU
        CPU -> null
    }

    companion object {
        fun named(label: String): Provider =
            values().firstOrNull { it.label == label }
                ?: throw IllegalArgumentException("unknown provider '$label'; choose from ${values().joinToString(", ") { it.label }}")
    }
}
