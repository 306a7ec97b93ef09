package dev.dualcam.core

import kotlin.math.max
import kotlin.math.min

/** The model's chroma at the working scale, in the mono image's orientation, and the tiles that made it. */
class Prediction(val cbcr: FloatImage, val grid: TileGrid, val modelSeconds: Double)

/**
 * Receives the coloured image a strip at a time, top to bottom: `count` rows from `top`, as opaque 0xAARRGGBB pixels
 * (the layout of Android's Bitmap and Java's BufferedImage), row-major in `pixels`.
 */
typealias RowSink = (top: Int, pixels: IntArray, count: Int) -> Unit

/**
 * The chroma of the mono view (dualcam.runtime.chroma): the pair into the network's frame -> the model, tile by
 * tile -> chroma filter guided by the mono image -> back to the mono image's orientation (`predict`); then guided
 * upsampling to full resolution and the YCbCr merge (`merge`). Both run in strips of rows, as the runtime's do: the
 * only whole plane is the chroma at the working scale (2 floats a pixel there); the full-resolution images are read
 * as they are (bytes) and the result leaves a strip at a time. The model is any backend: onnxruntime, or a probe
 * function in the tests, as the runtime's golden vectors are made.
 */
object Chroma {
    /** Rows filtered, upsampled and merged at a time (the runtime's STRIP_ROWS). */
    const val STRIP_ROWS = 256
    private const val FILTER_ROWS = 64

    /** Mono Y (H, W, 1) and colour RGB (h', w', 3), both as given, through `backend` tile by tile, in `arrangement`. */
    fun predict(monoY: Raster, colorRgb: Raster, arrangement: Arrangement, manifest: ModelManifest,
                backend: InferenceBackend, chromaFilter: Boolean = true, progress: ((Int, Int) -> Unit)? = null): Prediction {
        val (height, width) = arrangement.shape
        val grid = manifest.grid(height, width)
        val restored = arrangement.restoredShape.let { (h, w) -> FloatImage(h, w, 2) }
        val store = { top: Int, cbcr: FloatImage -> arrangement.restore(cbcr, top, restored) }
        val filter = StripFilter(height, width, store)
        val timed = TimedBackend(backend)
        grid.run(timed, { first, last ->
            Pair(arrangement.monoRows(monoY, first, last), arrangement.referenceRows(colorRgb, first, last))
        }, { top, cbcr, mono -> if (chromaFilter) filter.add(top, cbcr, mono) else store(top, cbcr) }, progress,
            arrangement.tileWindows(grid, manifest.rangeMargin).map { it.first }.toIntArray())
        return Prediction(restored, grid, timed.nanos / 1e9)
    }

    /** The backend, with the time its tiles take added up: the model's share of the pipeline's time. */
    private class TimedBackend(private val backend: InferenceBackend) : InferenceBackend {
        var nanos = 0L
        override val description: String get() = backend.description

        override fun runTile(monoY: FloatArray, refY: FloatArray, refCbcr: FloatArray): FloatArray {
            val start = System.nanoTime()
            try {
                return backend.runTile(monoY, refY, refCbcr)
            } finally {
                nanos += System.nanoTime() - start
            }
        }

        override fun close() = Unit  // the session owns the backend
    }

    /**
     * The chroma filter (Guided.filter) over rows that arrive in order: each strip of FILTER_ROWS rows is filtered with
     * 2 * radius rows of context on either side, so it is the whole image's filter exactly
     * (dualcam.runtime.chroma.filter_chroma); strips this short keep the filter's own planes (six channels, their
     * sums in doubles) small on a 12-megapixel frame.
     */
    private class StripFilter(val height: Int, val width: Int, val emit: (Int, FloatImage) -> Unit) {
        private val halo = 2 * Guided.FILTER_RADIUS
        private var pendingTop = 0  // first row of `cbcr` and `mono`
        private var filteredUpTo = 0
        private var cbcr = FloatImage(0, width, 2)
        private var mono = FloatImage(0, width, 1)

        fun add(top: Int, rows: FloatImage, monoRows: FloatImage) {
            check(top == pendingTop + cbcr.height) { "rows arrive in order" }
            cbcr = FloatImage(cbcr.height + rows.height, width, 2, cbcr.data + rows.data)
            mono = FloatImage(mono.height + monoRows.height, width, 1, mono.data + monoRows.data)
            val available = pendingTop + cbcr.height
            val upTo = if (available == height) height else available - halo
            while (filteredUpTo < upTo) {
                val end = min(filteredUpTo + FILTER_ROWS, upTo)
                val first = max(0, filteredUpTo - halo) - pendingTop
                val last = min(end + halo, available) - pendingTop
                val filtered = Guided.filter(band(mono, first, last), band(cbcr, first, last))
                val from = filteredUpTo - pendingTop - first
                emit(filteredUpTo, band(filtered, from, from + end - filteredUpTo))
                filteredUpTo = end
            }
            // Keep the context the next strip needs.
            val keepFrom = max(0, filteredUpTo - halo) - pendingTop
            cbcr = band(cbcr, keepFrom, cbcr.height)
            mono = band(mono, keepFrom, mono.height)
            pendingTop += keepFrom
        }

        private fun band(image: FloatImage, first: Int, last: Int): FloatImage {
            val row = image.width * image.channels
            return FloatImage(last - first, image.width, image.channels, image.data.copyOfRange(first * row, last * row))
        }
    }

    /**
     * Y = the mono image, Cb/Cr guided-upsampled from the working scale (clipped to [0, 1]), strip by strip -> 8-bit
     * RGB into `sink`. Colours outside the RGB cube are clipped to it, as the runtime clips them.
     */
    fun merge(monoY: Raster, cbcrLow: FloatImage, sink: RowSink) {
        val height = monoY.height
        val width = monoY.width
        val sameSize = cbcrLow.height == height && cbcrLow.width == width
        val monoRow = FloatArray(width)
        for (top in 0 until height step STRIP_ROWS) {
            val bottom = min(top + STRIP_ROWS, height)
            val cbcr = if (sameSize) FloatImage(bottom - top, width, 2, cbcrLow.data.copyOfRange(top * width * 2, bottom * width * 2))
                else Guided.upsampleRows(monoY, cbcrLow, top, bottom)
            val pixels = IntArray((bottom - top) * width)
            for (y in top until bottom) {
                monoY.readRow(y, monoRow)
                for (x in 0 until width) {
                    val i = (y - top) * width + x
                    pixels[i] = Color.argb(monoRow[x], cbcr.data[2 * i].coerceIn(0f, 1f), cbcr.data[2 * i + 1].coerceIn(0f, 1f))
                }
            }
            sink(top, pixels, bottom - top)
        }
    }
}
