package dev.dualcam.core

/**
 * How one pair maps into the network's frame and back (dualcam.runtime.arrangement): the network sees rows of a
 * landscape pair, the colour camera on the left, both images on the mono image's pixel grid, at the chroma working
 * scale. A pair reaches it by, in this order, a transposition (a portrait shot, the cameras one above the other), a
 * warp of the colour image onto the mono grid by `colorToMono` (a colour camera of another resolution, field of view
 * or a small misalignment; cv2.warpAffine's bilinear with replicated edges), area averaging to the working scale, and
 * a horizontal flip (the colour camera on the right), and the reference moved by the candidate offset so a mono pixel's
 * candidates are x + offset .. x + offset + d - 1 (dualcam.runtime.scale.candidate_window); a tile whose own matches
 * need it starts its candidates further still (`tileWindows`).
 *
 * The frame is produced a band of rows at a time (`monoRows`, `referenceRows`) from the full-resolution images, which
 * are only read: no full-resolution float copy of either image exists. `restore` undoes the flip and the
 * transposition of what the pipeline computes in that frame, a strip at a time; the scale is undone by the guided
 * upsampling, which needs the full-resolution mono image.
 */
data class Arrangement(val monoHeight: Int, val monoWidth: Int, val transposed: Boolean = false, val flipped: Boolean = false,
                       val scale: Double = 1.0,
                       /** 2x3 affine of colour px into mono px (after the transposition); null: on the mono grid already. */
                       val colorToMono: DoubleArray? = null,
                       /** The first candidate's disparity, working-scale px. */
                       val offset: Int = 0,
                       /** x, y, dx of each of the pair's matches in turn, in the frame at full resolution: tile windows. */
                       val samples: DoubleArray? = null) {
    /** (height, width) of the mono image transposed into rows, at full resolution. */
    val fullShape: Pair<Int, Int> get() = if (transposed) Pair(monoWidth, monoHeight) else Pair(monoHeight, monoWidth)

    /** (height, width) of the network's frame: the full shape at the working scale, at least 1 px a side. */
    val shape: Pair<Int, Int> get() = fullShape.let { (height, width) -> ChromaScale.scaledSize(height, width, scale) }

    private fun inRows(image: Raster): Raster = if (transposed) Transposed(image) else image

    /** Rows [first, last) of a full-resolution image in rows, scaled, then flipped: the runtime's order. */
    private fun scaledFlipped(image: Raster, first: Int, last: Int): FloatImage {
        val (height, width) = shape
        val band = Resize.area(image, height, width, first, last)
        return if (flipped) band.flippedHorizontally() else band
    }

    /** (H, W, 1) mono luma as given -> rows [first, last) of the network's frame, (last - first, w, 1). */
    fun monoRows(monoY: Raster, first: Int, last: Int): FloatImage {
        require(monoY.height == monoHeight && monoY.width == monoWidth && monoY.channels == 1) {
            "the mono image is ${monoY.width}x${monoY.height}; this arrangement is for ${monoWidth}x$monoHeight"
        }
        return scaledFlipped(inRows(monoY), first, last)
    }

    /** (h', w', 3) colour RGB as given -> rows [first, last) of the reference YCbCr in the network's frame. */
    fun referenceRows(colorRgb: Raster, first: Int, last: Int): FloatImage {
        val (height, width) = fullShape
        val rows = inRows(colorRgb)
        val onGrid = when {
            colorToMono != null -> AffineWarp(rows, colorToMono, height, width)
            rows.height == height && rows.width == width -> rows
            else -> throw IllegalArgumentException("the colour image is ${colorRgb.width}x${colorRgb.height}: it needs a " +
                "warp onto the mono image's ${monoWidth}x$monoHeight grid")
        }
        return Color.rgbToYcbcr(scaledFlipped(onGrid, first, last).moved(offset))
    }

    /** The whole frame: (h, w, 1) mono. */
    fun mono(monoY: Raster): FloatImage = monoRows(monoY, 0, shape.first)

    /** The whole frame: (h, w, 3) reference YCbCr. */
    fun reference(colorRgb: Raster): FloatImage = referenceRows(colorRgb, 0, shape.first)

    /**
     * ChromaScale.tileWindow of each tile of `grid`, row by row, from the matches inside it: how much further than the
     * pair's window its candidates start, and whether its disparities fit them (dualcam.runtime.arrangement).
     */
    fun tileWindows(grid: TileGrid, margin: Double): List<Pair<Int, Boolean>> {
        val points = samples ?: return List(grid.size) { Pair(0, true) }
        val count = points.size / 3
        val x = DoubleArray(count) { (points[3 * it] + 0.5) * scale - 0.5 }
        val y = DoubleArray(count) { (points[3 * it + 1] + 0.5) * scale - 0.5 }
        val dx = DoubleArray(count) { points[3 * it + 2] * scale - offset }
        return grid.rows.flatMap { top ->
            grid.cols.map { left ->
                val inside = (0 until count).filter {
                    x[it] >= left - 0.5 && x[it] < left + grid.tileWidth - 0.5 && y[it] >= top - 0.5 &&
                        y[it] < top + grid.tileHeight - 0.5
                }
                ChromaScale.tileWindow(DoubleArray(inside.size) { dx[inside[it]] }, grid.maxDisparity, margin)
            }
        }
    }

    /** (height, width) of the working-scale image in the mono image's own orientation. */
    val restoredShape: Pair<Int, Int> get() = shape.let { (height, width) -> if (transposed) Pair(width, height) else Pair(height, width) }

    /**
     * Rows [top, top + rows.height) of something computed in the network's frame (h, w, C) -> their pixels in `into`,
     * in the mono image's own orientation at the working scale ([restoredShape]): the flip and the transposition
     * undone, a strip at a time.
     */
    fun restore(rows: FloatImage, top: Int, into: FloatImage) {
        val width = shape.second
        for (y in 0 until rows.height) for (x in 0 until width) {
            val column = if (flipped) width - 1 - x else x
            val (row, col) = if (transposed) Pair(column, top + y) else Pair(top + y, column)
            for (c in 0 until rows.channels) into[row, col, c] = rows[y, x, c]
        }
    }
}
