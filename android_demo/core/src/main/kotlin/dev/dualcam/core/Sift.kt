package dev.dualcam.core

import kotlin.math.abs
import kotlin.math.cos
import kotlin.math.exp
import kotlin.math.floor
import kotlin.math.ln
import kotlin.math.max
import kotlin.math.min
import kotlin.math.pow
import kotlin.math.sin
import kotlin.math.sqrt

/** A SIFT keypoint in the image's px, as cv2.KeyPoint gives it, and where in the pyramid it was found. */
class Keypoint(val x: Float, val y: Float, val size: Float, val angle: Float, val response: Float,
               internal val octave: Int, internal val layer: Int)

/** Keypoints and their 128-value descriptors (integers 0..255, as OpenCV's float descriptors hold them). */
class Features(val keypoints: List<Keypoint>, val descriptors: Array<IntArray>)

/**
 * OpenCV's SIFT (cv2.SIFT_create(nfeatures=N).detectAndCompute), the detector dualcam.runtime.matching uses, written
 * out so the phone measures a pair as dualcam-run does: the image doubled, a Gaussian pyramid of 16-bit samples (8-bit
 * levels x 256) with three layers an octave, extrema of the differences of Gaussians refined to sub-pixel position
 * and scale, low-contrast and edge responses dropped, one keypoint per orientation peak, the strongest N kept, and
 * 4x4x8 gradient histograms as descriptors. Thresholds, rounding and border rules are OpenCV's (sift.dispatch.cpp and
 * sift.simd.hpp, its 16-bit variant); its fixed-point Gaussian blur is done in floats and rounded, so a sample may
 * differ by one step of 1/256 level and a rare keypoint by a little.
 *
 * Measured against cv2 on the tests' crop (golden.json): 228 of its 233 keypoints found at the same place, scale and
 * angle, their descriptors a median 1.4 apart (of a norm of 512); on 20 real pairs the geometry it gives agrees with
 * dualcam-run's (android_demo/README.md).
 */
object Sift {
    private const val OCTAVE_LAYERS = 3
    private const val CONTRAST_THRESHOLD = 0.04f
    private const val EDGE_THRESHOLD = 10f
    private const val SIGMA = 1.6f
    private const val INIT_SIGMA = 0.5f
    private const val IMG_BORDER = 5
    private const val MAX_INTERP_STEPS = 5
    private const val ORI_HIST_BINS = 36
    private const val ORI_SIG_FCTR = 1.5f
    private const val ORI_RADIUS = 4.5f
    private const val ORI_PEAK_RATIO = 0.8f
    private const val DESCR_WIDTH = 4
    private const val DESCR_HIST_BINS = 8
    private const val DESCR_SCL_FCTR = 3f
    private const val DESCR_MAG_THR = 0.2f
    private const val INT_DESCR_FCTR = 512f
    private const val FIXPT_SCALE = 256
    private const val FLT_EPSILON = 1.1920929e-7f

    /** A 16-bit plane of the pyramid (unsigned samples in a ShortArray: half the memory of floats). */
    private class Plane(val width: Int, val height: Int, val data: ShortArray = ShortArray(width * height)) {
        operator fun get(y: Int, x: Int): Int = data[y * width + x].toInt() and 0xffff
    }

    /** 8-bit grey `pixels` (height x width) -> keypoints and descriptors, the `maxFeatures` strongest. */
    fun detectAndCompute(pixels: ByteArray, width: Int, height: Int, maxFeatures: Int): Features {
        val base = initialImage(pixels, width, height)
        val octaves = Math.rint(ln(min(base.width, base.height).toDouble()) / ln(2.0) - 2).toInt() + 1
        val pyramid = gaussianPyramid(base, octaves)
        var keypoints = removeDuplicates(extrema(pyramid))
        keypoints = retainBest(keypoints, maxFeatures)
        val descriptors = Array(keypoints.size) { descriptor(pyramid, keypoints[it]) }
        // The first octave is the doubled image: positions and sizes in the image's own px.
        return Features(keypoints.map { Keypoint(it.x * 0.5f, it.y * 0.5f, it.size * 0.5f, it.angle, it.response, it.octave, it.layer) },
            descriptors)
    }

    /** The 8-bit image x 256, doubled by bilinear interpolation (exact in fixed point) and blurred to SIGMA. */
    private fun initialImage(pixels: ByteArray, width: Int, height: Int): Plane {
        val doubled = Plane(2 * width, 2 * height)
        fun source(y: Int, x: Int) = (pixels[y.coerceIn(0, height - 1) * width + x.coerceIn(0, width - 1)].toInt() and 0xff) * FIXPT_SCALE
        // Each doubled sample lies a quarter px from two source samples per axis: weights 3/4 and 1/4 exactly.
        for (y in 0 until 2 * height) {
            val y0 = if (y % 2 == 0) y / 2 - 1 else y / 2
            val wy0 = if (y % 2 == 0) 1 else 3
            for (x in 0 until 2 * width) {
                val x0 = if (x % 2 == 0) x / 2 - 1 else x / 2
                val wx0 = if (x % 2 == 0) 1 else 3
                val top = source(y0, x0) * wx0 + source(y0, x0 + 1) * (4 - wx0)
                val bottom = source(y0 + 1, x0) * wx0 + source(y0 + 1, x0 + 1) * (4 - wx0)
                doubled.data[y * 2 * width + x] = ((top * wy0 + bottom * (4 - wy0) + 8) shr 4).toShort()
            }
        }
        val sigmaDifference = sqrt(max(SIGMA * SIGMA - INIT_SIGMA * INIT_SIGMA * 4, 0.01f))
        return blur(doubled, sigmaDifference.toDouble())
    }

    private fun gaussianPyramid(base: Plane, octaves: Int): List<Array<Plane>> {
        val sig = DoubleArray(OCTAVE_LAYERS + 3)
        sig[0] = SIGMA.toDouble()
        val k = 2.0.pow(1.0 / OCTAVE_LAYERS)
        for (i in 1 until OCTAVE_LAYERS + 3) {
            val previous = k.pow(i - 1.0) * SIGMA
            val total = previous * k
            sig[i] = sqrt(total * total - previous * previous)
        }
        val pyramid = ArrayList<Array<Plane>>()
        for (o in 0 until octaves) {
            val layers = arrayOfNulls<Plane>(OCTAVE_LAYERS + 3)
            layers[0] = if (o == 0) base else halved(pyramid[o - 1][OCTAVE_LAYERS])
            for (i in 1 until OCTAVE_LAYERS + 3) layers[i] = blur(layers[i - 1]!!, sig[i])
            @Suppress("UNCHECKED_CAST")
            pyramid.add(layers as Array<Plane>)
        }
        return pyramid
    }

    /** cv2.resize to half size with INTER_NEAREST. */
    private fun halved(src: Plane): Plane {
        val out = Plane(src.width / 2, src.height / 2)
        val fx = src.width.toDouble() / out.width
        val fy = src.height.toDouble() / out.height
        for (y in 0 until out.height) {
            val sy = min(floor(y * fy).toInt(), src.height - 1)
            for (x in 0 until out.width) out.data[y * out.width + x] = src.data[sy * src.width + min(floor(x * fx).toInt(), src.width - 1)]
        }
        return out
    }

    /** cv2.GaussianBlur(src, ksize=0, sigma) of a 16-bit plane: OpenCV's kernel (4 sigma a side), reflect-101 border. */
    private fun blur(src: Plane, sigma: Double): Plane {
        val size = (Math.rint(sigma * 8 + 1).toInt()) or 1
        val kernel = FloatArray(size)
        val scale2 = -0.5 / (sigma * sigma)
        val raw = DoubleArray(size) { exp(scale2 * (it - (size - 1) * 0.5).pow(2)) }
        val sum = raw.sum()
        for (i in 0 until size) kernel[i] = (raw[i] / sum).toFloat()
        val half = size / 2
        val w = src.width
        val h = src.height
        val rows = FloatArray(w * h)
        val columnIndex = IntArray(w + 2 * half) { Resize.reflect101(it - half, w) }
        for (y in 0 until h) {
            val base = y * w
            for (x in 0 until w) {
                var acc = 0f
                for (k in 0 until size) acc += kernel[k] * (src.data[base + columnIndex[x + k]].toInt() and 0xffff)
                rows[base + x] = acc
            }
        }
        val out = Plane(w, h)
        val rowIndex = IntArray(h + 2 * half) { Resize.reflect101(it - half, h) }
        val acc = FloatArray(w)
        for (y in 0 until h) {
            acc.fill(0f)
            for (k in 0 until size) {
                val base = rowIndex[y + k] * w
                val weight = kernel[k]
                for (x in 0 until w) acc[x] += weight * rows[base + x]
            }
            for (x in 0 until w) out.data[y * w + x] = (acc[x] + 0.5f).toInt().coerceIn(0, 65535).toShort()
        }
        return out
    }

    /** A keypoint in its octave's px, before the doubled image is undone. */
    private class Candidate(val x: Float, val y: Float, val size: Float, var angle: Float, val response: Float,
                            val octave: Int, val layer: Int, val packedOctave: Int)

    /** Differences of Gaussians, read from the pyramid as they are needed rather than kept. */
    private class Dog(private val layers: Array<Plane>) {
        val width = layers[0].width
        val height = layers[0].height
        operator fun get(layer: Int, y: Int, x: Int): Int = layers[layer + 1][y, x] - layers[layer][y, x]
    }

    private fun extrema(pyramid: List<Array<Plane>>): List<Candidate> {
        val threshold = floor(0.5 * CONTRAST_THRESHOLD / OCTAVE_LAYERS * 255 * FIXPT_SCALE).toInt()
        val found = ArrayList<Candidate>()
        val hist = FloatArray(ORI_HIST_BINS)
        for ((o, layers) in pyramid.withIndex()) {
            val dog = Dog(layers)
            for (i in 1..OCTAVE_LAYERS) for (r in IMG_BORDER until dog.height - IMG_BORDER) {
                for (c in IMG_BORDER until dog.width - IMG_BORDER) {
                    val value = dog[i, r, c]
                    if (abs(value) <= threshold || !isExtremum(dog, i, r, c, value)) continue
                    val refined = refine(dog, o, i, r, c) ?: continue
                    orientations(layers[refined.layer], refined, o, hist, found)
                }
            }
        }
        return found
    }

    private fun isExtremum(dog: Dog, layer: Int, r: Int, c: Int, value: Int): Boolean {
        for (l in layer - 1..layer + 1) for (y in r - 1..r + 1) for (x in c - 1..c + 1) {
            val other = dog[l, y, x]
            if (if (value > 0) value < other else value > other) return false
        }
        return true
    }

    /** The refined extremum and the pixel and layer it ended at (adjustLocalExtrema). */
    private class Refined(val keypoint: Candidate, val layer: Int, val row: Int, val col: Int)

    /**
     * Sub-pixel, sub-layer position by Newton steps on the DoG (at most MAX_INTERP_STEPS); null for one that does not
     * converge, leaves the image, has low contrast or lies on an edge.
     */
    private fun refine(dog: Dog, octave: Int, startLayer: Int, startRow: Int, startCol: Int): Refined? {
        val imgScale = 1f / (255 * FIXPT_SCALE)
        val derivScale = imgScale * 0.5f
        val crossScale = imgScale * 0.25f
        var layer = startLayer
        var r = startRow
        var c = startCol
        var xi = 0f
        var xr = 0f
        var xc = 0f
        var step = 0
        while (step < MAX_INTERP_STEPS) {
            val dx = (dog[layer, r, c + 1] - dog[layer, r, c - 1]) * derivScale
            val dy = (dog[layer, r + 1, c] - dog[layer, r - 1, c]) * derivScale
            val ds = (dog[layer + 1, r, c] - dog[layer - 1, r, c]) * derivScale
            val v2 = (dog[layer, r, c] * 2).toFloat()
            val dxx = (dog[layer, r, c + 1] + dog[layer, r, c - 1] - v2) * imgScale
            val dyy = (dog[layer, r + 1, c] + dog[layer, r - 1, c] - v2) * imgScale
            val dss = (dog[layer + 1, r, c] + dog[layer - 1, r, c] - v2) * imgScale
            val dxy = (dog[layer, r + 1, c + 1] - dog[layer, r + 1, c - 1] - dog[layer, r - 1, c + 1] + dog[layer, r - 1, c - 1]) * crossScale
            val dxs = (dog[layer + 1, r, c + 1] - dog[layer + 1, r, c - 1] - dog[layer - 1, r, c + 1] + dog[layer - 1, r, c - 1]) * crossScale
            val dys = (dog[layer + 1, r + 1, c] - dog[layer + 1, r - 1, c] - dog[layer - 1, r + 1, c] + dog[layer - 1, r - 1, c]) * crossScale
            val x = solveLu(floatArrayOf(dxx, dxy, dxs, dxy, dyy, dys, dxs, dys, dss), floatArrayOf(dx, dy, ds))
            xi = -x[2]
            xr = -x[1]
            xc = -x[0]
            if (abs(xi) < 0.5f && abs(xr) < 0.5f && abs(xc) < 0.5f) break
            val limit = (Int.MAX_VALUE / 3).toFloat()
            if (!(abs(xi) <= limit && abs(xr) <= limit && abs(xc) <= limit)) return null
            c += cvRound(xc)
            r += cvRound(xr)
            layer += cvRound(xi)
            if (layer < 1 || layer > OCTAVE_LAYERS || c < IMG_BORDER || c >= dog.width - IMG_BORDER ||
                r < IMG_BORDER || r >= dog.height - IMG_BORDER) return null
            step++
        }
        if (step >= MAX_INTERP_STEPS) return null
        val dx = (dog[layer, r, c + 1] - dog[layer, r, c - 1]) * derivScale
        val dy = (dog[layer, r + 1, c] - dog[layer, r - 1, c]) * derivScale
        val ds = (dog[layer + 1, r, c] - dog[layer - 1, r, c]) * derivScale
        val t = dx * xc + dy * xr + ds * xi
        val contrast = dog[layer, r, c] * imgScale + t * 0.5f
        if (abs(contrast) * OCTAVE_LAYERS < CONTRAST_THRESHOLD) return null
        val v2 = (dog[layer, r, c] * 2).toFloat()
        val dxx = (dog[layer, r, c + 1] + dog[layer, r, c - 1] - v2) * imgScale
        val dyy = (dog[layer, r + 1, c] + dog[layer, r - 1, c] - v2) * imgScale
        val dxy = (dog[layer, r + 1, c + 1] - dog[layer, r + 1, c - 1] - dog[layer, r - 1, c + 1] + dog[layer, r - 1, c - 1]) * crossScale
        val trace = dxx + dyy
        val det = dxx * dyy - dxy * dxy
        if (det <= 0 || trace * trace * EDGE_THRESHOLD >= (EDGE_THRESHOLD + 1) * (EDGE_THRESHOLD + 1) * det) return null
        val octaveScale = (1 shl octave).toFloat()
        val size = SIGMA * 2f.pow((layer + xi) / OCTAVE_LAYERS) * ((1 shl octave) * 2)
        val packed = octave + (layer shl 8) + (Math.rint(((xi + 0.5f) * 255).toDouble()).toInt() shl 16)
        return Refined(Candidate((c + xc) * octaveScale, (r + xr) * octaveScale, size, 0f, abs(contrast), octave, layer, packed),
            layer, r, c)
    }

    /** Matx33f::solve with DECOMP_LU as sift.simd.hpp's solve_LU writes it out (no pivoting). */
    private fun solveLu(m: FloatArray, v: FloatArray): FloatArray {
        val u00 = m[0]
        val u01 = m[1]
        val u02 = m[2]
        val l10 = m[3] / u00
        val l20 = m[6] / u00
        val u11 = m[4] - l10 * u01
        val u12 = m[5] - l10 * u02
        val l21 = (m[7] - l20 * u01) / u11
        val u22 = (m[8] - l20 * u02) - l21 * u12
        val v0 = v[0]
        val v1 = v[1] - l10 * v0
        val v2 = v[2] - l20 * v0 - l21 * v1
        val x2 = v2 / u22
        val x1 = (v1 - x2 * u12) / u11
        val x0 = (v0 - x2 * u02 - x1 * u01) / u00
        return floatArrayOf(x0, x1, x2)
    }

    /** One keypoint per peak of the smoothed 36-bin gradient orientation histogram within 80 % of the highest. */
    private fun orientations(image: Plane, refined: Refined, octave: Int, hist: FloatArray, found: MutableList<Candidate>) {
        val keypoint = refined.keypoint
        val scaleInOctave = keypoint.size / (1 shl (octave + 1))
        val radius = cvRound(ORI_RADIUS * scaleInOctave)
        val sigma = ORI_SIG_FCTR * scaleInOctave
        val max = orientationHistogram(image, refined.col, refined.row, radius, sigma, hist)
        val threshold = max * ORI_PEAK_RATIO
        val n = ORI_HIST_BINS
        for (j in 0 until n) {
            val left = if (j > 0) j - 1 else n - 1
            val right = if (j < n - 1) j + 1 else 0
            if (hist[j] > hist[left] && hist[j] > hist[right] && hist[j] >= threshold) {
                var bin = j + 0.5f * (hist[left] - hist[right]) / (hist[left] - (hist[j] + hist[j]) + hist[right])
                bin = if (bin < 0) n + bin else if (bin >= n) bin - n else bin
                var angle = 360f - (360f / n * bin)
                if (abs(angle - 360f) < FLT_EPSILON) angle = 0f
                found.add(Candidate(keypoint.x, keypoint.y, keypoint.size, angle, keypoint.response, keypoint.octave,
                    keypoint.layer, keypoint.packedOctave))
            }
        }
    }

    private fun orientationHistogram(image: Plane, px: Int, py: Int, radius: Int, sigma: Float, hist: FloatArray): Float {
        val n = ORI_HIST_BINS
        val expScale = -1f / (2f * sigma * sigma)
        val temp = FloatArray(n + 4)
        for (i in -radius..radius) {
            val y = py + i
            if (y <= 0 || y >= image.height - 1) continue
            for (j in -radius..radius) {
                val x = px + j
                if (x <= 0 || x >= image.width - 1) continue
                val dx = image[y, x + 1] - image[y, x - 1]
                val dy = image[y - 1, x] - image[y + 1, x]
                val weight = exp((i * i + j * j) * expScale)
                val orientation = ORIENTATION_ATAN.degrees(dy.toFloat(), dx.toFloat())
                val magnitude = sqrt((dx * dx + dy * dy).toFloat())  // an Int, wrapping as OpenCV's does
                var bin = cvRound(n / 360f * orientation)
                if (bin >= n) bin -= n
                if (bin < 0) bin += n
                temp[2 + bin] += weight * magnitude
            }
        }
        temp[1] = temp[2 + n - 1]
        temp[0] = temp[2 + n - 2]
        temp[2 + n] = temp[2]
        temp[2 + n + 1] = temp[3]
        for (i in 0 until n) {
            hist[i] = (temp[i] + temp[i + 4]) * (1f / 16f) + (temp[i + 1] + temp[i + 3]) * (4f / 16f) + temp[i + 2] * (6f / 16f)
        }
        var max = hist[0]
        for (i in 1 until n) max = if (max > hist[i]) max else hist[i]
        return max
    }

    private fun cvRound(value: Float): Int = Math.rint(value.toDouble()).toInt()

    /** Degrees on [0, 360) from OpenCV's atan2 polynomial (about 0.01 degree off the true angle). */
    private class Atan2(private val p1: Float, private val p3: Float, private val p5: Float, private val p7: Float) {
        fun degrees(y: Float, x: Float): Float {
            val ax = abs(x)
            val ay = abs(y)
            var a: Float
            if (ax >= ay) {
                val c = ay / (ax + DBL_EPSILON)
                val c2 = c * c
                a = (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
            } else {
                val c = ax / (ay + DBL_EPSILON)
                val c2 = c * c
                a = 90f - (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
            }
            if (x < 0) a = 180f - a
            if (y < 0) a = 360f - a
            return a
        }
    }

    private const val DBL_EPSILON = 2.220446049250313e-16f
    private val DEGREES = (180 / Math.PI).toFloat()

    /** cv::fastAtan2, for the descriptor. */
    private val FAST_ATAN = Atan2(0.9997878412794807f * DEGREES, -0.3258083974640975f * DEGREES,
        0.1555786518463281f * DEGREES, -0.04432655554792128f * DEGREES)

    /** The same polynomial with the coefficients sift.simd.hpp's atan2_bitexact writes, for the orientation histogram. */
    private val ORIENTATION_ATAN = Atan2(57.283627f, -18.667446f, 8.914001f, -2.539725f)

    /** KeyPointsFilter::removeDuplicatedSorted: sorted by position (then larger size, angle, response), repeats dropped. */
    private fun removeDuplicates(found: List<Candidate>): List<Candidate> {
        val sorted = found.sortedWith(Comparator { a, b ->
            when {
                a.x != b.x -> a.x.compareTo(b.x)
                a.y != b.y -> a.y.compareTo(b.y)
                a.size != b.size -> b.size.compareTo(a.size)
                a.angle != b.angle -> a.angle.compareTo(b.angle)
                a.response != b.response -> b.response.compareTo(a.response)
                else -> b.packedOctave.compareTo(a.packedOctave)
            }
        })
        val kept = ArrayList<Candidate>()
        for (k in sorted) {
            val last = kept.lastOrNull()
            if (last == null || last.x != k.x || last.y != k.y || last.size != k.size || last.angle != k.angle) kept.add(k)
        }
        return kept
    }

    /** KeyPointsFilter::retainBest: the `count` strongest responses, and any tied with the weakest of them. */
    private fun retainBest(found: List<Candidate>, count: Int): List<Candidate> {
        if (found.size <= count) return found
        val boundary = found.map { it.response }.sortedDescending()[count - 1]
        return found.filter { it.response >= boundary }
    }

    /** calcSIFTDescriptor: gradients around the keypoint in its octave and layer, trilinearly binned, clipped, scaled. */
    private fun descriptor(pyramid: List<Array<Plane>>, keypoint: Candidate): IntArray {
        val image = pyramid[keypoint.octave][keypoint.layer]
        val octaveScale = 1f / (1 shl keypoint.octave)
        val d = DESCR_WIDTH
        val n = DESCR_HIST_BINS
        val px = Math.rint((keypoint.x * octaveScale).toDouble()).toInt()
        val py = Math.rint((keypoint.y * octaveScale).toDouble()).toInt()
        var angle = 360f - keypoint.angle
        if (abs(angle - 360f) < FLT_EPSILON) angle = 0f
        val scl = keypoint.size * octaveScale * 0.5f
        var cosT = cos(angle * (Math.PI / 180).toFloat())
        var sinT = sin(angle * (Math.PI / 180).toFloat())
        val binsPerDegree = n / 360f
        val expScale = -1f / (d * d * 0.5f)
        val histWidth = DESCR_SCL_FCTR * scl
        var radius = cvRound(histWidth * 1.4142135623730951f * (d + 1) * 0.5f)
        radius = min(radius, sqrt(image.width.toDouble() * image.width + image.height.toDouble() * image.height).toInt())
        cosT /= histWidth
        sinT /= histWidth
        val hist = FloatArray((d + 2) * (d + 2) * (n + 2))
        for (i in -radius..radius) for (j in -radius..radius) {
            val cRot = j * cosT - i * sinT
            val rRot = j * sinT + i * cosT
            var rbin = rRot + d / 2 - 0.5f
            var cbin = cRot + d / 2 - 0.5f
            val r = py + i
            val c = px + j
            if (!(rbin > -1 && rbin < d && cbin > -1 && cbin < d && r > 0 && r < image.height - 1 && c > 0 && c < image.width - 1)) continue
            val dx = (image[r, c + 1] - image[r, c - 1]).toFloat()
            val dy = (image[r - 1, c] - image[r + 1, c]).toFloat()
            var obin = (FAST_ATAN.degrees(dy, dx) - angle) * binsPerDegree
            val magnitude = sqrt(dx * dx + dy * dy) * exp((cRot * cRot + rRot * rRot) * expScale)
            val r0 = floor(rbin).toInt()
            val c0 = floor(cbin).toInt()
            var o0 = floor(obin).toInt()
            rbin -= r0
            cbin -= c0
            obin -= o0
            if (o0 < 0) o0 += n
            if (o0 >= n) o0 -= n
            val vR1 = magnitude * rbin
            val vR0 = magnitude - vR1
            val vRc11 = vR1 * cbin
            val vRc10 = vR1 - vRc11
            val vRc01 = vR0 * cbin
            val vRc00 = vR0 - vRc01
            val vRco111 = vRc11 * obin
            val vRco101 = vRc10 * obin
            val vRco011 = vRc01 * obin
            val vRco001 = vRc00 * obin
            val idx = ((r0 + 1) * (d + 2) + c0 + 1) * (n + 2) + o0
            hist[idx] += vRc00 - vRco001
            hist[idx + 1] += vRco001
            hist[idx + (n + 2)] += vRc01 - vRco011
            hist[idx + (n + 3)] += vRco011
            hist[idx + (d + 2) * (n + 2)] += vRc10 - vRco101
            hist[idx + (d + 2) * (n + 2) + 1] += vRco101
            hist[idx + (d + 3) * (n + 2)] += vRc11 - vRco111
            hist[idx + (d + 3) * (n + 2) + 1] += vRco111
        }
        val raw = FloatArray(d * d * n)
        for (i in 0 until d) for (j in 0 until d) {
            val idx = ((i + 1) * (d + 2) + (j + 1)) * (n + 2)
            hist[idx] += hist[idx + n]
            hist[idx + 1] += hist[idx + n + 1]
            for (k in 0 until n) raw[(i * d + j) * n + k] = hist[idx + k]
        }
        var norm = 0f
        for (v in raw) norm += v * v
        val threshold = sqrt(norm) * DESCR_MAG_THR
        norm = 0f
        for (k in raw.indices) {
            raw[k] = min(raw[k], threshold)
            norm += raw[k] * raw[k]
        }
        val factor = INT_DESCR_FCTR / max(sqrt(norm), FLT_EPSILON)
        return IntArray(raw.size) { Math.rint((raw[it] * factor).toDouble()).toInt().coerceIn(0, 255) }
    }
}
