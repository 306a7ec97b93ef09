package dev.dualcam.core

/** Which side of the mono camera the colour camera sits on, seen from behind the phone. */
enum class CameraSide { LEFT, RIGHT }

/** The coloured image and what was decided and measured on the way. */
class Colorized(
    val rgb: FloatImage,
    /** Cb/Cr at the working scale, in the mono image's orientation: the model's, filtered, before upsampling. */
    val chroma: FloatImage,
    val scale: Double,
    val plan: Plan,
    val flipped: Boolean,
    val modelSeconds: Double,
    val totalSeconds: Double
)

/**
 * The whole on-device pipeline, one stage after another, as dualcam.runtime.colorize runs it once the pair is
 * read and its geometry known: chroma working scale (both images scaled) -> camera side (flip into the network's
 * arrangement, colour camera on the left) -> tiled inference under the memory budget -> chroma filter guided by
 * the mono image -> flipped back -> guided upsampling -> YCbCr merge with the mono image as luma.
 *
 * The disparity range and the camera side come from the caller: the Python runtime measures them with SIFT
 * matches, which the phone leaves to its calibration (or to a desktop measurement for the tests).
 */
class Colorizer(private val manifest: ModelManifest, private val role: String, private val backend: InferenceBackend) {
    /** `mono` (H, W, 1) Y and `color` (H, W, 3) RGB on [0, 1]; `maxPairDisparity` in full-resolution px, or null. */
    fun colorize(mono: FloatImage, color: FloatImage, side: CameraSide, maxPairDisparity: Double?,
                 budgetMb: Int = DEFAULT_BUDGET_MB, chromaFilter: Boolean = true,
                 progress: ((Int, Int) -> Unit)? = null): Colorized {
        require(mono.channels == 1 && color.channels == 3) { "need a grey mono image and an RGB colour image" }
        require(mono.height == color.height && mono.width == color.width) {
            "the colour image is ${color.width}x${color.height}, the mono image ${mono.width}x${mono.height}: both cameras' images must have one size"
        }
        val start = System.nanoTime()
        val flip = side == CameraSide.RIGHT
        val scale = ChromaScale.workingScale(maxPairDisparity, manifest.maxDisparity, manifest.rangeMargin, manifest.minScale)
        val plan = Planner.plan(mono.height, mono.width, scale, role.removeSuffix("_ort"), manifest.tileHeight,
            manifest.tileWidth, manifest.maxDisparity, budgetMb)
        // Scaled first and flipped after, as the runtime does (so the phone never copies the full-size pair to flip it).
        var smallMono = ChromaScale.downscale(mono, scale)
        var smallRgb = ChromaScale.downscale(color, scale)
        if (flip) {
            smallMono = smallMono.flippedHorizontally()
            smallRgb = smallRgb.flippedHorizontally()
        }
        val modelStart = System.nanoTime()
        val small = plan.grid.run(backend, smallMono, Color.rgbToYcbcr(smallRgb), progress)
        val modelSeconds = (System.nanoTime() - modelStart) / 1e9
        val filtered = if (chromaFilter) Guided.filter(smallMono, small) else small
        val chroma = if (flip) filtered.flippedHorizontally() else filtered
        val rgb = Color.merge(mono, ChromaScale.upscale(mono, chroma))
        return Colorized(rgb, chroma, scale, plan, flip, modelSeconds, (System.nanoTime() - start) / 1e9)
    }

    companion object {
        const val DEFAULT_BUDGET_MB = 2048
        const val MIN_SIZE = 64

        /** The runtime's check on reading a pair: below MIN_SIZE px a side there is too little image to match. */
        fun checkSize(image: FloatImage, name: String) {
            require(minOf(image.height, image.width) >= MIN_SIZE) {
                "$name is ${image.width}x${image.height}; at least $MIN_SIZE px a side are needed"
            }
        }
    }
}
