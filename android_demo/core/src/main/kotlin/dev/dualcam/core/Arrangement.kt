package dev.dualcam.core

/**
 * How one pair maps into the network's frame and back (dualcam.runtime.arrangement): the network sees rows of a
 * landscape pair, the colour camera on the left, at the chroma working scale. A pair reaches it by, in this order,
 * a transposition (a portrait shot, the cameras one above the other), area averaging to the working scale, and a
 * horizontal flip (the colour camera on the right). The runtime's warp of a colour camera of another geometry onto
 * the mono grid is not ported: the colour image must already be on the mono image's grid.
 *
 * `restore` undoes the flip and the transposition of what the pipeline computes in that frame; the scale is undone
 * by the guided upsampling, which needs the full-resolution mono image.
 */
class Arrangement(val monoHeight: Int, val monoWidth: Int, val transposed: Boolean = false, val flipped: Boolean = false,
                  val scale: Double = 1.0) {
    /** (height, width) of the mono image transposed into rows, at full resolution. */
    val fullShape: Pair<Int, Int> get() = if (transposed) Pair(monoWidth, monoHeight) else Pair(monoHeight, monoWidth)

    /** (height, width) of the network's frame: the full shape at the working scale, at least 1 px a side. */
    val shape: Pair<Int, Int> get() = fullShape.let { (height, width) -> ChromaScale.scaledSize(height, width, scale) }

    /** Scaled, then flipped, an image already in rows: the runtime's order, so the sums are made alike. */
    private fun scaledFlipped(image: FloatImage): FloatImage {
        val (height, width) = shape
        val scaled = if (scale == 1.0) image else Resize.area(image, height, width)
        return if (flipped) scaled.flippedHorizontally() else scaled
    }

    private fun inRows(image: FloatImage, name: String): FloatImage {
        require(image.height == monoHeight && image.width == monoWidth) {
            "the $name image is ${image.width}x${image.height}; this arrangement is for ${monoWidth}x$monoHeight on the mono image's grid"
        }
        return if (transposed) image.transposed() else image
    }

    /** (H, W, 1) mono Y as given -> (h, w, 1) in the network's frame. */
    fun mono(monoY: FloatImage): FloatImage = scaledFlipped(inRows(monoY, "mono"))

    /** (H, W, 3) colour RGB as given -> (h, w, 3) reference YCbCr in the network's frame. */
    fun reference(colorRgb: FloatImage): FloatImage = Color.rgbToYcbcr(scaledFlipped(inRows(colorRgb, "colour")))

    /** (h, w, C) in the network's frame -> the mono image's own orientation, still at the working scale. */
    fun restore(image: FloatImage): FloatImage {
        val unflipped = if (flipped) image.flippedHorizontally() else image
        return if (transposed) unflipped.transposed() else unflipped
    }
}
