package dev.dualcam.core

import kotlin.math.floor
import kotlin.math.max
import kotlin.math.min
import kotlin.math.sqrt

/** An 8-bit grey image, row-major. */
class GreyBytes(val height: Int, val width: Int, val data: ByteArray) {
    operator fun get(y: Int, x: Int): Int = data[y * width + x].toInt() and 0xff
}

/**
 * Sparse feature matches between the mono and colour images (dualcam.runtime.matching): both images shrunk to at
 * most MAX_SIDE px a side, turned to contrast-equalised 8-bit grey, [Sift] keypoints and descriptors matched with
 * Lowe's ratio test. Every measurement of a pair's geometry ([Geometry]) comes from these matches.
 */
object Matching {
    /** The runtime's matching resolution and feature count (matching.py measured them). */
    const val MAX_SIDE = 800
    const val MAX_FEATURES = 2000
    const val RATIO = 0.75f
    private const val CLAHE_CLIP = 2.0
    private const val CLAHE_TILES = 8

    /** The matches of a grey or RGB mono image and a grey or RGB colour image, at each image's full resolution. */
    fun siftMatches(mono: Raster, color: Raster): Matches {
        val (a, scaleA) = toU8(mono)
        val (b, scaleB) = toU8(color)
        val featuresA = Sift.detectAndCompute(a.data, a.width, a.height, MAX_FEATURES)
        val featuresB = Sift.detectAndCompute(b.data, b.width, b.height, MAX_FEATURES)
        val pairs = ratioMatches(featuresA, featuresB)
        val monoXy = DoubleArray(2 * pairs.size)
        val colorXy = DoubleArray(2 * pairs.size)
        for ((i, pair) in pairs.withIndex()) {
            val ka = featuresA.keypoints[pair.first]
            val kb = featuresB.keypoints[pair.second]
            monoXy[2 * i] = ka.x.toDouble() / scaleA
            monoXy[2 * i + 1] = ka.y.toDouble() / scaleA
            colorXy[2 * i] = kb.x.toDouble() / scaleB
            colorXy[2 * i + 1] = kb.y.toDouble() / scaleB
        }
        return Matches(monoXy, colorXy, scaleA)
    }

    /** (query, train) index pairs whose nearest descriptor is nearer than RATIO times the second nearest. */
    private fun ratioMatches(query: Features, train: Features): List<Pair<Int, Int>> {
        if (query.keypoints.size < 2 || train.keypoints.size < 2) return emptyList()
        val out = ArrayList<Pair<Int, Int>>()
        for ((q, descriptor) in query.descriptors.withIndex()) {
            var best = Int.MAX_VALUE
            var second = Int.MAX_VALUE
            var bestIndex = -1
            for ((t, other) in train.descriptors.withIndex()) {
                var distance = 0
                for (k in descriptor.indices) {
                    val d = descriptor[k] - other[k]
                    distance += d * d
                }
                if (distance < best) {
                    second = best
                    best = distance
                    bestIndex = t
                } else if (distance < second) {
                    second = distance
                }
            }
            // OpenCV's L2 distances are float square roots of exact integer sums.
            if (sqrt(best.toFloat()) < RATIO * sqrt(second.toFloat())) out.add(Pair(q, bestIndex))
        }
        return out
    }

    /**
     * The runtime's _to_u8: grey or RGB on [0, 1] -> 8-bit grey of at most MAX_SIDE px a side (area-averaged with
     * OpenCV's fx = fy = scale, so the sizes round as cv2.resize rounds them), contrast-equalised; and that scale.
     */
    fun toU8(image: Raster, maxSide: Int = MAX_SIDE): Pair<GreyBytes, Double> {
        val scale = min(1.0, maxSide.toDouble() / max(image.height, image.width))
        val small = if (scale < 1.0) {
            Resize.area(image, Math.rint(image.height * scale).toInt(), Math.rint(image.width * scale).toInt(),
                scaleX = 1.0 / scale, scaleY = 1.0 / scale)
        } else image
        val grey = ByteArray(small.height * small.width)
        val row = FloatArray(small.width * small.channels)
        for (y in 0 until small.height) {
            small.readRow(y, row)
            for (x in 0 until small.width) {
                val value = if (small.channels == 1) row[x] else Color.luma(row[3 * x], row[3 * x + 1], row[3 * x + 2])
                grey[y * small.width + x] = Math.rint((value * 255f).toDouble()).coerceIn(0.0, 255.0).toInt().toByte()
            }
        }
        return Pair(clahe(GreyBytes(small.height, small.width, grey)), scale)
    }

    /**
     * cv2.createCLAHE(clipLimit=2, tileGridSize=(8, 8)).apply: a histogram per tile, clipped and the excess spread
     * evenly, its cumulative sum as the tile's mapping, and each pixel mapped bilinearly between its four nearest
     * tiles. An image whose sides are not multiples of the grid is extended by reflection (OpenCV pads a whole grid
     * step where a side already divides) for the histograms only.
     */
    fun clahe(image: GreyBytes, clipLimit: Double = CLAHE_CLIP, tiles: Int = CLAHE_TILES): GreyBytes {
        val divisible = image.width % tiles == 0 && image.height % tiles == 0
        val extendedWidth = if (divisible) image.width else image.width + tiles - image.width % tiles
        val extendedHeight = if (divisible) image.height else image.height + tiles - image.height % tiles
        val tileWidth = extendedWidth / tiles
        val tileHeight = extendedHeight / tiles
        val tileArea = tileWidth * tileHeight
        val lutScale = 255f / tileArea
        val clip = max((clipLimit * tileArea / 256).toInt(), 1)
        val lut = Array(tiles * tiles) { IntArray(256) }
        for (ty in 0 until tiles) for (tx in 0 until tiles) {
            val hist = IntArray(256)
            for (y in ty * tileHeight until (ty + 1) * tileHeight) for (x in tx * tileWidth until (tx + 1) * tileWidth) {
                hist[image[Resize.reflect101(y, image.height), Resize.reflect101(x, image.width)]]++
            }
            var clipped = 0
            for (i in 0 until 256) if (hist[i] > clip) {
                clipped += hist[i] - clip
                hist[i] = clip
            }
            val batch = clipped / 256
            var residual = clipped - batch * 256
            for (i in 0 until 256) hist[i] += batch
            if (residual != 0) {
                val step = max(256 / residual, 1)
                var i = 0
                while (i < 256 && residual > 0) {
                    hist[i]++
                    i += step
                    residual--
                }
            }
            var sum = 0
            val tileLut = lut[ty * tiles + tx]
            for (i in 0 until 256) {
                sum += hist[i]
                tileLut[i] = Math.rint((sum * lutScale).toDouble()).toInt().coerceIn(0, 255)
            }
        }
        val out = ByteArray(image.height * image.width)
        val inverseTileWidth = 1f / tileWidth
        val inverseTileHeight = 1f / tileHeight
        for (y in 0 until image.height) {
            val tyf = y * inverseTileHeight - 0.5f
            val ty1 = floor(tyf).toInt()
            val ya = tyf - ty1
            val ya1 = 1f - ya
            val top = max(ty1, 0) * tiles
            val bottom = min(ty1 + 1, tiles - 1) * tiles
            for (x in 0 until image.width) {
                val txf = x * inverseTileWidth - 0.5f
                val tx1 = floor(txf).toInt()
                val xa = txf - tx1
                val xa1 = 1f - xa
                val left = max(tx1, 0)
                val right = min(tx1 + 1, tiles - 1)
                val v = image[y, x]
                val result = (lut[top + left][v] * xa1 + lut[top + right][v] * xa) * ya1 +
                    (lut[bottom + left][v] * xa1 + lut[bottom + right][v] * xa) * ya
                out[y * image.width + x] = Math.rint(result.toDouble()).toInt().coerceIn(0, 255).toByte()
            }
        }
        return GreyBytes(image.height, image.width, out)
    }
}
