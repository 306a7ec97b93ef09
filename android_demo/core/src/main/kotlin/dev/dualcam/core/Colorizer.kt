package dev.dualcam.core

/** Which side of the mono camera the colour camera sits on, seen from behind the phone; `label` as the runtime words it. */
enum class CameraSide(val label: String) { LEFT("left"), RIGHT("right") }

/** What was decided and measured on the way to the coloured image (which went to the caller's [RowSink]). */
class Colorized(
    val geometry: Geometry,
    /** Cb/Cr at the working scale, in the mono image's orientation: the model's, filtered, before upsampling. */
    val chroma: FloatImage,
    val grid: TileGrid,
    val memory: MemoryPlan,
    val geometrySeconds: Double,
    val modelSeconds: Double,
    /** From the memory plan to the last strip of the image, opening the backend included where this pair's plan did. */
    val totalSeconds: Double
) {
    val scale: Double get() = geometry.arrangement.scale
    val flipped: Boolean get() = geometry.arrangement.flipped
}

/**
 * The whole on-device pipeline, the stages of dualcam.runtime.colorize's Colorizer once the pair is read: a budget the
 * pair cannot fit at all refused -> `Geometry.measure` (feature matches: portrait or landscape, the colour image onto
 * the mono grid, the camera side, the largest disparity and so the working scale, or a refusal) -> the memory plan for
 * that working scale readies the session -> `Chroma.predict`
 * (into the network's frame, tiles, chroma filter, back) -> `Chroma.merge` (guided upsampling and the YCbCr merge
 * with the mono image as luma, a strip at a time into `sink`).
 *
 * The images stay as given (8-bit samples, [ByteImage]); what the pipeline holds beyond them is the chroma at the
 * working scale and strips of rows, so a 12-megapixel pair fits a phone's Java heap.
 */
class Colorizer(private val session: TileSession) {
    /**
     * `mono` (H, W, 1) and `color` (h', w', 3) on [0, 1], the colour image of any size; `options` may give the camera
     * side or the largest disparity instead of measuring them. GeometryError for a pair the runtime would refuse.
     */
    fun colorize(mono: Raster, color: Raster, sink: RowSink, options: GeometryOptions = GeometryOptions(),
                 budgetMb: Int = DEFAULT_BUDGET_MB, chromaFilter: Boolean = true, monoName: String = "the mono image",
                 colorName: String = "the colour image", progress: ((Int, Int) -> Unit)? = null): Colorized {
        require(mono.channels == 1 && color.channels == 3) { "need a grey mono image and an RGB colour image" }
        val start = System.nanoTime()
        val colorPixels = color.height.toLong() * color.width
        session.prepare(mono.height, mono.width, colorPixels, budgetMb)
        val measuring = System.nanoTime()
        val geometry = Geometry.measure(mono, color, session.manifest, options, monoName, colorName)
        val geometrySeconds = (System.nanoTime() - measuring) / 1e9
        val memory = session.prepare(mono.height, mono.width, colorPixels, budgetMb, geometry.arrangement.shape)
        val prediction = Chroma.predict(mono, color, geometry.arrangement, session.manifest, session.backend, chromaFilter, progress)
        Chroma.merge(mono, prediction.cbcr, sink)
        return Colorized(geometry, prediction.cbcr, prediction.grid, memory, geometrySeconds, prediction.modelSeconds,
            (System.nanoTime() - start) / 1e9)
    }

    companion object {
        const val DEFAULT_BUDGET_MB = 1024
        const val MIN_SIZE = 64

        /** The runtime's check on reading a pair: below MIN_SIZE px a side there is too little image to match. */
        fun checkSize(image: Raster, name: String) {
            require(minOf(image.height, image.width) >= MIN_SIZE) {
                "$name is ${image.width}x${image.height}; at least $MIN_SIZE px a side are needed"
            }
        }
    }
}
