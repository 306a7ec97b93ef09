package dev.dualcam.core

/** Which side of the mono camera the colour camera sits on, seen from behind the phone. */
enum class CameraSide { LEFT, RIGHT }

/** The coloured image and what was decided and measured on the way. */
class Colorized(
    val rgb: FloatImage,
    /** Cb/Cr at the working scale, in the mono image's orientation: the model's, filtered, before upsampling. */
    val chroma: FloatImage,
    val scale: Double,
    val flipped: Boolean,
    val grid: TileGrid,
    val memory: MemoryPlan,
    val modelSeconds: Double,
    /** From the memory plan to the merged image, opening the backend included where this pair's plan did. */
    val totalSeconds: Double
)

/**
 * The whole on-device pipeline, the stages of dualcam.runtime.colorize's Colorizer once the pair is read, minus the
 * geometry: the memory plan readies the session -> the pair's arrangement (camera side, chroma working scale) ->
 * `Chroma.predict` (into the network's frame, tiles, chroma filter, back) -> `Chroma.merge` (guided upsampling and
 * the YCbCr merge with the mono image as luma).
 *
 * The disparity range and the camera side come from the caller: the Python runtime measures them with SIFT
 * matches, which the phone leaves to its calibration (or to a desktop measurement for the tests).
 */
class Colorizer(private val session: TileSession) {
    /** `mono` (H, W, 1) Y and `color` (H, W, 3) RGB on [0, 1]; `maxPairDisparity` in full-resolution px, or null. */
    fun colorize(mono: FloatImage, color: FloatImage, side: CameraSide, maxPairDisparity: Double?,
                 budgetMb: Int = DEFAULT_BUDGET_MB, chromaFilter: Boolean = true,
                 progress: ((Int, Int) -> Unit)? = null): Colorized {
        require(mono.channels == 1 && color.channels == 3) { "need a grey mono image and an RGB colour image" }
        require(mono.height == color.height && mono.width == color.width) {
            "the colour image is ${color.width}x${color.height}, the mono image ${mono.width}x${mono.height}: both cameras' images must have one size"
        }
        val start = System.nanoTime()
        val memory = session.prepare(mono.height, mono.width, color.height.toLong() * color.width, budgetMb)
        val arrangement = Arrangement(mono.height, mono.width, flipped = side == CameraSide.RIGHT,
            scale = session.manifest.workingScale(maxPairDisparity))
        val prediction = Chroma.predict(mono, color, arrangement, session.manifest, session.backend, chromaFilter, progress)
        val rgb = Chroma.merge(mono, prediction.cbcr)
        return Colorized(rgb, prediction.cbcr, arrangement.scale, arrangement.flipped, prediction.grid, memory,
            prediction.modelSeconds, (System.nanoTime() - start) / 1e9)
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
