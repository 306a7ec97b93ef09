package dev.dualcam.core

import kotlin.math.max
import kotlin.math.min

/**
 * Cover an image of any size with the model's fixed tile and blend the tiles' chroma back together
 * (dualcam.runtime.tiling). Each mono tile sees a reference tile d columns wider on the right, where its
 * candidates lie (`shifts` columns further right for a tile with its own candidate window); tiles overlap and Cb/Cr
 * are blended with linear ramps across each overlap so no seam shows; whatever runs past the image is filled by edge
 * replication, as the network saw at borders in training.
 */
object Tiling {
    /** Evenly spread starts covering [0, length) with tiles overlapping by at least `overlap`. */
    fun tileStarts(length: Int, tile: Int, overlap: Int): IntArray {
        if (length <= tile) return intArrayOf(0)
        val count = (length - overlap + tile - overlap - 1) / (tile - overlap)
        return IntArray(count) { i -> ChromaScale.roundHalfEven(i.toDouble() * (length - tile) / (count - 1)) }
    }

    /** Per tile, a 1-D blending weight: 1 inside, rising linearly across the overlap with each neighbour. */
    fun rampWeights(starts: IntArray, tile: Int, length: Int): List<FloatArray> = starts.indices.map { i ->
        val w = FloatArray(tile) { 1f }
        if (i > 0) {
            val n = starts[i - 1] + tile - starts[i]
            for (k in 0 until n) w[k] = min(w[k], ((k + 0.5) / n).toFloat())
        }
        if (i + 1 < starts.size) {
            val n = starts[i] + tile - starts[i + 1]
            for (k in 0 until n) w[tile - n + k] = min(w[tile - n + k], ((n - k - 0.5) / n).toFloat())
        }
        w.copyOf(max(0, min(tile, length - starts[i])))
    }
}

/** One tile's model inputs, NCHW as [InferenceBackend.runTile] takes them. */
class TileInputs(val monoY: FloatArray, val refY: FloatArray, val refCbcr: FloatArray)

/** Where the fixed-size tiles of one image go. */
class TileGrid(val height: Int, val width: Int, val tileHeight: Int, val tileWidth: Int, val maxDisparity: Int, val overlap: Int) {
    init {
        require(min(tileHeight, tileWidth) > 2 * overlap) { "overlap $overlap too large for a ${tileHeight}x$tileWidth tile" }
    }

    val rows: IntArray = Tiling.tileStarts(height, tileHeight, overlap)
    val cols: IntArray = Tiling.tileStarts(width, tileWidth, overlap)
    val size: Int get() = rows.size * cols.size

    /**
     * The model's inputs for the tile at (top, left), edge-replicated where the windows run past the image, from mono
     * Y (., W, 1) and reference YCbCr (., W, 3) bands holding rows [bandTop, bandTop + band height).
     */
    fun inputs(top: Int, left: Int, monoY: FloatImage, refYcbcr: FloatImage, bandTop: Int = 0, shift: Int = 0): TileInputs {
        val refWidth = tileWidth + maxDisparity
        val tile = TileInputs(FloatArray(tileHeight * tileWidth), FloatArray(tileHeight * refWidth), FloatArray(2 * tileHeight * refWidth))
        for (y in 0 until tileHeight) {
            val sy = min(top + y, height - 1) - bandTop
            for (x in 0 until refWidth) {
                if (x < tileWidth) tile.monoY[y * tileWidth + x] = monoY[sy, min(left + x, width - 1)]
                val sx = min(left + shift + x, width - 1)
                tile.refY[y * refWidth + x] = refYcbcr[sy, sx, 0]
                tile.refCbcr[y * refWidth + x] = refYcbcr[sy, sx, 1]
                tile.refCbcr[tileHeight * refWidth + y * refWidth + x] = refYcbcr[sy, sx, 2]
            }
        }
        return tile
    }

    /**
     * Every tile through `backend`, a row of tiles at a time, with the network's frame read in bands: `frame(first,
     * last)` gives rows [first, last) of mono Y (., W, 1) and reference YCbCr (., W, 3). Blended Cb/Cr rows go to
     * `emit(top, cbcr, mono)` as soon as no later tile reaches them, with the frame's mono rows beside them, so neither
     * the frame nor the chroma is ever held whole. Tiles go row by row and are blended in the runtime's order, so the
     * sums are made alike.
     */
    fun run(backend: InferenceBackend, frame: (Int, Int) -> Pair<FloatImage, FloatImage>,
            emit: (top: Int, cbcr: FloatImage, mono: FloatImage) -> Unit, progress: ((Int, Int) -> Unit)? = null,
            shifts: IntArray? = null) {
        val rowWeights = Tiling.rampWeights(rows, tileHeight, height)
        val colWeights = Tiling.rampWeights(cols, tileWidth, width)
        // Rows [accumulatorTop, accumulatorTop + tileHeight): the rows the current tile row and its successors share.
        var total = FloatArray(tileHeight * width * 2)
        var weight = FloatArray(tileHeight * width)
        val plane = tileHeight * tileWidth
        var done = 0
        for ((r, top) in rows.withIndex()) {
            val bottom = min(top + tileHeight, height)
            val (monoBand, refBand) = frame(top, bottom)
            for ((c, left) in cols.withIndex()) {
                val tile = inputs(top, left, monoBand, refBand, top, shifts?.get(r * cols.size + c) ?: 0)
                val cbcr = backend.runTile(tile.monoY, tile.refY, tile.refCbcr)
                check(cbcr.size == 2 * plane) { "${backend.description} returned ${cbcr.size} values for a ${tileHeight}x$tileWidth tile" }
                val wy = rowWeights[r]
                val wx = colWeights[c]
                for (y in wy.indices) for (x in wx.indices) {
                    val w = wy[y] * wx[x]
                    val i = y * width + left + x
                    total[2 * i] += cbcr[y * tileWidth + x] * w
                    total[2 * i + 1] += cbcr[plane + y * tileWidth + x] * w
                    weight[i] += w
                }
                progress?.invoke(++done, size)
            }
            // Rows above the next tile row's top are final.
            val next = if (r + 1 < rows.size) rows[r + 1] else height
            val final = next - top
            emit(top, FloatImage(final, width, 2, FloatArray(final * width * 2) { total[it] / weight[it / 2] }),
                FloatImage(final, width, 1, monoBand.data.copyOf(final * width)))
            total = total.copyOfRange(final * width * 2, total.size).copyOf(total.size)
            weight = weight.copyOfRange(final * width, weight.size).copyOf(weight.size)
        }
    }
}
