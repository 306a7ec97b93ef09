package dev.dualcam.core

import kotlin.math.ceil
import kotlin.math.floor
import kotlin.math.min

/**
 * The three OpenCV filters the runtime's chroma path uses on float32 images, written out so the phone needs no
 * OpenCV: cv2.resize with INTER_AREA (downscaling) and INTER_LINEAR (along rows), and a normalised box filter
 * with the reflect-101 border. Each follows OpenCV's own arithmetic (its weight tables and accumulation order), so the
 * results agree with the runtime to float rounding.
 */
object Resize {
    /** One source sample's share of one destination sample, as OpenCV's computeResizeAreaTab lists them. */
    private class Share(val dst: Int, val src: Int, val weight: Float)

    /** `scale` source px per destination px: OpenCV's 1 / fx when fx is given, else from the two sizes. */
    private fun areaShares(sourceSize: Int, destSize: Int, scale: Double): List<Share> {
        val shares = ArrayList<Share>()
        for (d in 0 until destSize) {
            val f1 = d * scale
            val f2 = f1 + scale
            val cell = min(scale, sourceSize - f1)
            var s2 = floor(f2).toInt()
            s2 = min(s2, sourceSize - 1)
            val s1 = min(ceil(f1).toInt(), s2)
            if (s1 - f1 > 1e-3) shares.add(Share(d, s1 - 1, ((s1 - f1) / cell).toFloat()))
            for (s in s1 until s2) shares.add(Share(d, s, (1.0 / cell).toFloat()))
            if (f2 - s2 > 1e-3) shares.add(Share(d, s2, (min(min(f2 - s2, 1.0), cell) / cell).toFloat()))
        }
        return shares
    }

    /**
     * Rows [first, last) of cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA) for a smaller or equal
     * size, reading only the source rows they cover: each destination row is summed from its own source rows with the
     * whole image's weights, so strips of rows put together are the whole resize. `scaleX`, `scaleY`: source px per
     * destination px (OpenCV's 1 / fx where cv2.resize was given fx, fy).
     */
    fun area(image: Raster, height: Int, width: Int, first: Int = 0, last: Int = height,
             scaleX: Double = 1.0 / (width.toDouble() / image.width),
             scaleY: Double = 1.0 / (height.toDouble() / image.height)): FloatImage {
        require(height <= image.height && width <= image.width) { "area resizing only shrinks" }
        val cn = image.channels
        val out = FloatImage(last - first, width, cn)
        if (height == image.height && width == image.width) {
            for (y in first until last) copyRow(image, y, out, y - first)
            return out
        }
        val xs = areaShares(image.width, width, scaleX)
        val source = FloatArray(image.width * cn)
        val row = FloatArray(width * cn)
        val sum = FloatArray(width * cn)
        var currentDst = -1
        for (share in areaShares(image.height, height, scaleY)) {
            if (share.dst < first || share.dst >= last) continue
            image.readRow(share.src, source)
            row.fill(0f)
            for (x in xs) for (c in 0 until cn) row[x.dst * cn + c] += source[x.src * cn + c] * x.weight
            if (share.dst != currentDst) {
                if (currentDst >= 0) System.arraycopy(sum, 0, out.data, (currentDst - first) * width * cn, width * cn)
                currentDst = share.dst
                for (i in sum.indices) sum[i] = share.weight * row[i]
            } else {
                for (i in sum.indices) sum[i] += share.weight * row[i]
            }
        }
        if (currentDst >= 0) System.arraycopy(sum, 0, out.data, (currentDst - first) * width * cn, width * cn)
        return out
    }

    /** Row y of `image` into row `at` of `out` (of the same width and channels). */
    fun copyRow(image: Raster, y: Int, out: FloatImage, at: Int) {
        val row = FloatArray(image.width * image.channels)
        image.readRow(y, row)
        System.arraycopy(row, 0, out.data, at * row.size, row.size)
    }

    /** Source index and the two tap weights of each destination sample of OpenCV's bilinear resize. */
    internal class Taps(val index: IntArray, val near: FloatArray, val far: FloatArray)

    internal fun linearTaps(sourceSize: Int, destSize: Int): Taps {
        val scale = 1.0 / (destSize.toDouble() / sourceSize)
        val index = IntArray(destSize)
        val near = FloatArray(destSize)
        val far = FloatArray(destSize)
        for (d in 0 until destSize) {
            var f = ((d + 0.5) * scale - 0.5).toFloat()
            var s = floor(f).toInt()
            f -= s
            if (s < 0) {
                f = 0f
                s = 0
            }
            if (s >= sourceSize - 1) {
                f = 0f
                s = sourceSize - 1
            }
            index[d] = s
            near[d] = 1f - f
            far[d] = f
        }
        return Taps(index, near, far)
    }

    /** Each row resized to `width` as cv2.resize's INTER_LINEAR does it (half-pixel centres, edges replicated). */
    fun linearRows(image: FloatImage, width: Int): Array<FloatArray> {
        val cn = image.channels
        val xs = linearTaps(image.width, width)
        return Array(image.height) { sy ->
            val base = sy * image.width * cn
            FloatArray(width * cn) { i ->
                val x = i / cn
                val c = i % cn
                val s = xs.index[x]
                if (s + 1 >= image.width) image.data[base + s * cn + c] * xs.near[x]
                else image.data[base + s * cn + c] * xs.near[x] + image.data[base + (s + 1) * cn + c] * xs.far[x]
            }
        }
    }

    /** OpenCV's BORDER_REFLECT_101: index i of a line of n samples mirrored about its end samples. */
    fun reflect101(i: Int, n: Int): Int {
        if (n == 1) return 0
        var j = i
        while (j < 0 || j >= n) j = if (j < 0) -j else 2 * n - 2 - j
        return j
    }

    /** cv2.boxFilter(image, -1, (2r+1, 2r+1), normalize=True, borderType=BORDER_REFLECT_101): sums in double. */
    fun box(image: FloatImage, radius: Int): FloatImage {
        val cn = image.channels
        val h = image.height
        val w = image.width
        val rowSums = DoubleArray(h * w * cn)
        for (y in 0 until h) for (x in 0 until w) for (c in 0 until cn) {
            var s = 0.0
            for (dx in -radius..radius) s += image.data[(y * w + reflect101(x + dx, w)) * cn + c]
            rowSums[(y * w + x) * cn + c] = s
        }
        val scale = 1.0 / ((2 * radius + 1) * (2 * radius + 1))
        val out = FloatImage(h, w, cn)
        for (y in 0 until h) for (x in 0 until w) for (c in 0 until cn) {
            var s = 0.0
            for (dy in -radius..radius) s += rowSums[(reflect101(y + dy, h) * w + x) * cn + c]
            out.data[(y * w + x) * cn + c] = (s * scale).toFloat()
        }
        return out
    }
}
