package dev.dualcam.core

import kotlin.math.max

/**
 * The chroma working scale (dualcam.runtime.scale and .chroma): where a pair's disparities exceed the model's d
 * candidates, chroma is predicted on a smaller copy of the pair and brought back to full resolution guided by the
 * mono image, which carries the detail.
 */
object ChromaScale {
    /**
     * Largest scale <= 1 at which `maxPairDisparity` (full-resolution px) fits in margin * d, at least `minScale`;
     * null (the range could not be measured) keeps full resolution.
     */
    fun workingScale(maxPairDisparity: Double?, maxDisparity: Int, margin: Double, minScale: Double): Double =
        if (maxPairDisparity == null || maxPairDisparity <= margin * maxDisparity) 1.0
        else max(minScale, margin * maxDisparity / maxPairDisparity)

    /** Python's round(): half to even. */
    fun roundHalfEven(value: Double): Int = Math.rint(value).toInt()

    /** (height, width) of an image at the working scale. */
    fun scaledSize(height: Int, width: Int, scale: Double): Pair<Int, Int> =
        Pair(max(1, roundHalfEven(height * scale)), max(1, roundHalfEven(width * scale)))

    /** An image at the working scale by area averaging; unchanged at scale 1. */
    fun downscale(image: FloatImage, scale: Double): FloatImage {
        if (scale == 1.0) return image
        val (h, w) = scaledSize(image.height, image.width, scale)
        return Resize.area(image, h, w)
    }

    /** Chroma of the working scale at the mono image's resolution (guided where the sizes differ), clipped to [0, 1]. */
    fun upscale(monoY: FloatImage, cbcr: FloatImage): FloatImage {
        val full = if (cbcr.height == monoY.height && cbcr.width == monoY.width) cbcr else Guided.upsample(monoY, cbcr)
        return FloatImage(full.height, full.width, full.channels, FloatArray(full.data.size) { full.data[it].coerceIn(0f, 1f) })
    }
}

/**
 * Guided chroma upsampling (dualcam.runtime.guided.guided_upsample): bilinear low-resolution chroma plus the
 * mono image's detail that the low resolution lost, scaled by how strongly chroma follows luma locally.
 */
object Guided {
    const val RADIUS = 1
    const val EPS = 1e-2f

    /** (h, w, C) `low` -> (H, W, C) at the size of the grey (H, W) `guideFull`. */
    fun upsample(guideFull: FloatImage, low: FloatImage, radius: Int = RADIUS, eps: Float = EPS): FloatImage {
        require(guideFull.channels == 1) { "the guide must be grey" }
        val h = low.height
        val w = low.width
        val c = low.channels
        val guide = Resize.area(guideFull, h, w)
        val n = h * w
        // One box pass over [I, I*I, p, I*p], as the runtime does.
        val stack = FloatImage(h, w, 2 + 2 * c)
        for (i in 0 until n) {
            val g = guide.data[i]
            stack.data[i * (2 + 2 * c)] = g
            stack.data[i * (2 + 2 * c) + 1] = g * g
            for (k in 0 until c) {
                stack.data[i * (2 + 2 * c) + 2 + k] = low.data[i * c + k]
                stack.data[i * (2 + 2 * c) + 2 + c + k] = g * low.data[i * c + k]
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
        val coefficients = FloatImage.stack(Resize.box(slope, radius), low, guide)
        // Columns as cv2.resize's bilinear does them; rows with the same taps, applied here because the
        // runtime upsamples in strips this way.
        val wide = Resize.linearRows(coefficients, guideFull.width)
        val rows = Resize.linearTaps(h, guideFull.height)
        val out = FloatImage(guideFull.height, guideFull.width, c)
        val stride = 2 * c + 1
        for (y in 0 until guideFull.height) {
            val upper = rows.index[y]
            val a = wide[upper]
            val b = wide[minOf(upper + 1, h - 1)]
            val near = rows.near[y]
            val far = rows.far[y]
            for (x in 0 until guideFull.width) {
                val i = y * guideFull.width + x
                fun up(k: Int): Float = a[x * stride + k] * near + b[x * stride + k] * far
                val detail = guideFull.data[i] - up(2 * c)
                for (k in 0 until c) out.data[i * c + k] = up(c + k) + up(k) * detail
            }
        }
        return out
    }
}
