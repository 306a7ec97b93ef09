package dev.dualcam.core

import kotlin.math.ceil
import kotlin.math.floor
import kotlin.math.max
import kotlin.math.min

/**
 * The chroma working scale and candidate window (dualcam.runtime.scale and .chroma): where a pair's disparities do not
 * fit the model's d candidates, chroma is predicted on a smaller copy of the pair and brought back to full resolution
 * guided by the mono image, which carries the detail; a pair whose disparities start far from 0 (a close-up, a wide
 * baseline, converging lenses) has its candidates start there instead, so only their span has to fit.
 */
object ChromaScale {
    /**
     * Largest scale <= 1 at which `maxPairDisparity` (full-resolution px) fits in margin * d, at least `minScale`;
     * null (the range could not be measured) keeps full resolution.
     */
    fun workingScale(maxPairDisparity: Double?, maxDisparity: Int, margin: Double, minScale: Double): Double =
        if (maxPairDisparity == null || maxPairDisparity <= margin * maxDisparity) 1.0
        else max(minScale, margin * maxDisparity / maxPairDisparity)

    /** Working-scale px kept between a moved window's first candidate and the smallest measured disparity. */
    fun lowSlack(maxDisparity: Int, margin: Double): Int = roundHalfEven((1 - margin) * maxDisparity / 2)

    /**
     * (working scale, offset) for a pair whose disparities in the network's frame span `disparities` (smallest,
     * largest; full-resolution px; null: unmeasured): candidates from 0 where they keep the highest scale and reach
     * the smallest disparity to within a working-scale px, else a window from lowSlack below the smallest one.
     */
    fun candidateWindow(disparities: Pair<Double, Double>?, maxDisparity: Int, margin: Double,
                        minScale: Double): Pair<Double, Int> {
        if (disparities == null) return Pair(1.0, 0)
        val (lowest, largest) = disparities
        val slack = lowSlack(maxDisparity, margin)
        val fromZero = workingScale(max(largest, 0.0), maxDisparity, margin, minScale)
        val span = largest - lowest
        val moved = if (span <= 0) 1.0 else max(minScale, min(1.0, (margin * maxDisparity - slack - 1) / span))
        if (fromZero * lowest >= -1 && moved <= fromZero) return Pair(fromZero, 0)
        return Pair(moved, windowOffset(lowest, moved, maxDisparity, margin))
    }

    /** The offset of a window lowSlack below the smallest disparity (full-resolution px) at `scale`. */
    fun windowOffset(lowest: Double, scale: Double, maxDisparity: Int, margin: Double): Int {
        val offset = floor(scale * lowest).toInt() - lowSlack(maxDisparity, margin)
        return if (lowest >= 0) max(offset, 0) else offset
    }

    /** A tile's own candidate window needs this many matches inside it (dualcam.runtime.scale). */
    const val TILE_WINDOW_MIN_MATCHES = 10

    /**
     * (shift, fits) for one tile whose matches have `disparities` (working-scale px, from the pair window's first
     * candidate): 0 where the pair window keeps the largest within margin * d, else the least shift that does but
     * never past lowSlack below the smallest; too few matches: (0, false).
     */
    fun tileWindow(disparities: DoubleArray, maxDisparity: Int, margin: Double): Pair<Int, Boolean> {
        if (disparities.size < TILE_WINDOW_MIN_MATCHES) return Pair(0, false)
        val lowest = Stats.percentile(disparities, 1.0)
        val largest = Stats.percentile(disparities, 99.0)
        val need = ceil(largest - margin * maxDisparity).toInt()
        if (need <= 0) return Pair(0, lowest >= -1)
        val room = floor(lowest).toInt() - lowSlack(maxDisparity, margin)
        return Pair(max(0, min(need, room)), need <= room)
    }

    /** Python's round(): half to even. */
    fun roundHalfEven(value: Double): Int = Math.rint(value).toInt()

    /** (height, width) of an image at the working scale. */
    fun scaledSize(height: Int, width: Int, scale: Double): Pair<Int, Int> =
        Pair(max(1, roundHalfEven(height * scale)), max(1, roundHalfEven(width * scale)))

}

/**
 * He et al.'s guided filter with a grey guide (dualcam.runtime.guided): the chroma filter at the working scale,
 * and guided chroma upsampling, which adds the mono image's detail that the low resolution lost, scaled by how
 * strongly chroma follows luma locally.
 */
object Guided {
    const val RADIUS = 1
    const val EPS = 1e-2f
    const val FILTER_RADIUS = 1
    const val FILTER_EPS = 1e-3f

    /** Per-window ridge fit src ~ a * guide + b, from one box pass over [I, I*I, p, I*p] as the runtime does it:
     * the slopes a (h, w, C) and the window means [I, I*I, p, I*p] (h, w, 2 + 2C). */
    private fun fit(guide: FloatImage, src: FloatImage, radius: Int, eps: Float): Pair<FloatImage, FloatImage> {
        val h = src.height
        val w = src.width
        val c = src.channels
        val n = h * w
        val stack = FloatImage(h, w, 2 + 2 * c)
        for (i in 0 until n) {
            val g = guide.data[i]
            stack.data[i * (2 + 2 * c)] = g
            stack.data[i * (2 + 2 * c) + 1] = g * g
            for (k in 0 until c) {
                stack.data[i * (2 + 2 * c) + 2 + k] = src.data[i * c + k]
                stack.data[i * (2 + 2 * c) + 2 + c + k] = g * src.data[i * c + k]
            }
        }
        val means = Resize.box(stack, radius)
        val slope = FloatImage(h, w, c)
        for (i in 0 until n) {
            val m = i * (2 + 2 * c)
            val meanI = means.data[m]
            val variance = means.data[m + 1] - meanI * meanI + eps
            for (k in 0 until c) slope.data[i * c + k] = (means.data[m + 2 + c + k] - meanI * means.data[m + 2 + k]) / variance
        }
        return Pair(slope, means)
    }

    /** (h, w, C) `src` smoothed where it does not follow the grey (h, w) `guide` (guided_filter). */
    fun filter(guide: FloatImage, src: FloatImage, radius: Int = FILTER_RADIUS, eps: Float = FILTER_EPS): FloatImage {
        require(guide.channels == 1 && guide.height == src.height && guide.width == src.width) {
            "the guide must be grey and of the source's size"
        }
        val c = src.channels
        val (slope, means) = fit(guide, src, radius, eps)
        val ab = FloatImage(src.height, src.width, 2 * c)
        for (i in 0 until src.height * src.width) {
            val m = i * (2 + 2 * c)
            for (k in 0 until c) {
                val a = slope.data[i * c + k]
                ab.data[i * 2 * c + k] = a
                ab.data[i * 2 * c + c + k] = means.data[m + 2 + k] - a * means.data[m]
            }
        }
        val smooth = Resize.box(ab, radius)
        val out = FloatImage(src.height, src.width, c)
        for (i in 0 until src.height * src.width) {
            for (k in 0 until c) out.data[i * c + k] = smooth.data[i * 2 * c + k] * guide.data[i] + smooth.data[i * 2 * c + c + k]
        }
        return out
    }

    /** (h, w, C) `low` -> (H, W, C) at the size of the grey (H, W) `guideFull`. */
    fun upsample(guideFull: Raster, low: FloatImage): FloatImage = upsampleRows(guideFull, low, 0, guideFull.height)

    /**
     * Rows [top, bottom) of the guided upsampling of (h, w, C) `low` to the size of the grey (H, W) `guideFull`:
     * (bottom - top, W, C). The low-resolution coefficients (window-averaged slope A, src, guide area-averaged to
     * (h, w)) are computed only for the low rows these rows reach, from 2 * radius rows of context beyond them, so
     * strips put together are the whole image's upsampling (upsample_coefficients and upsample_rows).
     */
    fun upsampleRows(guideFull: Raster, low: FloatImage, top: Int, bottom: Int, radius: Int = RADIUS, eps: Float = EPS): FloatImage {
        require(guideFull.channels == 1) { "the guide must be grey" }
        val h = low.height
        val c = low.channels
        val rows = Resize.linearTaps(h, guideFull.height)
        val first = rows.index[top]
        val last = minOf(rows.index[bottom - 1] + 1, h - 1)
        val bandFirst = maxOf(0, first - 2 * radius)
        val bandLast = minOf(h, last + 1 + 2 * radius)
        val guide = Resize.area(guideFull, h, low.width, bandFirst, bandLast)
        val src = FloatImage(bandLast - bandFirst, low.width, c,
            low.data.copyOfRange(bandFirst * low.width * c, bandLast * low.width * c))
        val (slope, _) = fit(guide, src, radius, eps)
        val coefficients = FloatImage.stack(Resize.box(slope, radius), src, guide)
        // Columns as cv2.resize's bilinear does them, for the coefficient rows these rows use; rows with the same
        // taps, as the runtime upsamples in strips.
        val wide = Resize.linearRows(coefficients, guideFull.width)
        val out = FloatImage(bottom - top, guideFull.width, c)
        val stride = 2 * c + 1
        val guideRow = FloatArray(guideFull.width)
        for (y in top until bottom) {
            val upper = rows.index[y]
            val a = wide[upper - bandFirst]
            val b = wide[minOf(upper + 1, h - 1) - bandFirst]
            val near = rows.near[y]
            val far = rows.far[y]
            guideFull.readRow(y, guideRow)
            for (x in 0 until guideFull.width) {
                val i = (y - top) * guideFull.width + x
                fun up(k: Int): Float = a[x * stride + k] * near + b[x * stride + k] * far
                val detail = guideRow[x] - up(2 * c)
                for (k in 0 until c) out.data[i * c + k] = up(c + k) + up(k) * detail
            }
        }
        return out
    }
}
