package dev.dualcam.core

import kotlin.math.abs
import kotlin.math.atan2
import kotlin.math.floor
import kotlin.math.hypot
import kotlin.math.max
import kotlin.math.sqrt

/**
 * Feature matches at full resolution (dualcam.runtime.matching.Matches): match i joins (x, y) = mono[2i], mono[2i + 1]
 * with color[2i], color[2i + 1]; `scale` is the matching resolution over the mono image's, so 1 / scale is one
 * matched pixel.
 */
class Matches(val mono: DoubleArray, val color: DoubleArray, val scale: Double) {
    val size: Int get() = mono.size / 2

    /** The same matches with x and y swapped: what they are between the two images transposed. */
    fun transposed(): Matches = Matches(swapped(mono), swapped(color), scale)

    private fun swapped(xy: DoubleArray) = DoubleArray(xy.size) { xy[it xor 1] }
}

/**
 * What the matches say about a pair (dualcam.runtime.rectify.RectificationReport), in the mono image's
 * full-resolution px; dy = y_colour - y_mono. With too few matches the numbers are NaN, `rectified` is false and
 * `side` is null.
 */
class RectificationReport(
    /** RANSAC inliers of the row model. */
    val matches: Int,
    val tooFewMatches: Boolean,
    val rectified: Boolean,
    /** max(|dyMedian|, the largest corner dy beyond its uncertainty) + dySpread. */
    val verticalError: Double,
    /** Rectify.MAX_ERROR_PX at the network's working scale, in full-resolution px. */
    val limitPx: Double,
    /** LEFT when the colour camera is left of the mono camera (dx mostly > 0); null when it cannot be told. */
    val side: CameraSide?,
    val dyMedian: Double,
    val dySpread: Double,
    /** Fitted dy at the top-left, top-right, bottom-left and bottom-right corner. */
    val dyCorners: DoubleArray,
    val dyCornersUncertainty: DoubleArray,
    /** colour = mono rotated by this (cv2.getRotationMatrix2D's sign), scaled, shifted. */
    val rotationDeg: Double,
    /** Colour px per mono px. */
    val scale: Double,
    /**
     * The range of dx once rotation and scale are removed (Rectify.disparityExtent): positive where the colour camera
     * is on the left (a converging pair, like a 3-D lens's, has both signs).
     */
    val disparityLow: Double,
    val disparityHigh: Double,
    /** How much more the colour image's rows are scaled than its columns, relative (0 for a camera). */
    val anisotropy: Double,
    /** y_mono - cy_mono = a (x_colour - cx_colour) + b (y_colour - cy_colour) + c, as (a, b, c). */
    val rowFit: DoubleArray,
    /** Mono x, y and dx of each inlier in turn (full-resolution px): where each disparity is, for tile windows. */
    val samples: DoubleArray? = null
)

/**
 * The row model of dualcam.runtime.rectify, ported line for line: RANSAC fits each mono keypoint's row as a linear
 * function of its colour keypoint's (x, y), the row part of the similarity that lines the colour camera up with the
 * mono camera (disparities, along x only, cannot pollute it); the report, the camera side, the disparity range, the
 * vertical baseline of a portrait shot and the correction all follow from that fit. numpy's random stream
 * ([NumpyRandom]) picks the same samples, so the same matches give the runtime's numbers to rounding.
 */
object Rectify {
    /** The network compares rows at half resolution through 3x3 convs: 1.5 px at the working scale still meets. */
    const val MAX_ERROR_PX = 1.5
    const val MIN_MATCHES = 30
    /** A disparity beyond the 1st..99th percentiles counts when this many matches close together agree on it. */
    private const val RANGE_SUPPORT = 3
    private const val RANGE_SUPPORT_RADIUS = 0.1
    private const val RANGE_SUPPORT_PX = 2.0
    private const val RANGE_SUPPORT_SLOPE = 0.05
    private const val MAD_TO_STD = 1.4826
    private const val CORNER_SIGMAS = 2.0
    private const val INLIER_TOL_PX = 1.0
    private const val RANSAC_ITERATIONS = 300
    private const val SIDE_MIN_DX_PX = 1.0
    private const val VERTICAL_BASELINE_RATIO = 1.5
    const val MAX_ROTATION_DEG = 5.0
    const val MAX_SCALE_CHANGE = 0.10
    const val MAX_RESOLUTION_RATIO = 4.0

    /**
     * The (smallest, largest) disparity in the network's frame, where the colour camera is on the left, of dx running
     * from `first` to `last` for a colour camera on `side` (RIGHT mirrors it; null is taken as left).
     */
    fun alongSide(first: Double, last: Double, side: CameraSide?): Pair<Double, Double> =
        if (side == CameraSide.RIGHT) Pair(-last, -first) else Pair(first, last)
    const val MAX_ANISOTROPY = 0.10
    private const val ANISOTROPY_PAIRS = 20000
    const val MAX_SHIFT_FRACTION = 0.10

    /** (cx, cy) of a (height, width) image. */
    private fun centre(height: Int, width: Int) = doubleArrayOf((width - 1) / 2.0, (height - 1) / 2.0)

    private class RowFit(val coef: DoubleArray, val inliers: BooleanArray) {
        val count: Int get() = inliers.count { it }
    }

    /**
     * RANSAC fit of y_mono = a x_colour + b y_colour + c about each image's centre, then least squares on the
     * inliers twice; null with fewer than MIN_MATCHES matches or when every sampled triple is (nearly) collinear.
     */
    private fun fitRows(matches: Matches, monoCentre: DoubleArray, colorCentre: DoubleArray): RowFit? {
        val n = matches.size
        if (n < MIN_MATCHES) return null
        val xs = DoubleArray(n) { matches.color[2 * it] - colorCentre[0] }
        val ys = DoubleArray(n) { matches.color[2 * it + 1] - colorCentre[1] }
        val target = DoubleArray(n) { matches.mono[2 * it + 1] - monoCentre[1] }
        val tol = INLIER_TOL_PX / matches.scale
        val samples = NumpyRandom().integers(n, RANSAC_ITERATIONS * 3)
        val minDet = 1.0 / (matches.scale * matches.scale)
        fun residual(coef: DoubleArray, i: Int) = abs(xs[i] * coef[0] + ys[i] * coef[1] + coef[2] - target[i])
        var best: DoubleArray? = null
        var bestSupport = -1
        for (s in 0 until RANSAC_ITERATIONS) {
            val rows = IntArray(3) { samples[3 * s + it] }
            val system = Array(3) { k -> doubleArrayOf(xs[rows[k]], ys[rows[k]], 1.0) }
            if (!(abs(Linear.det3(system)) > minDet)) continue  // |det| is twice the triangle's area
            val candidate = Linear.solve(system, DoubleArray(3) { target[rows[it]] }) ?: continue
            var support = 0
            for (i in 0 until n) if (residual(candidate, i) < tol) support++
            if (support > bestSupport) {
                best = candidate
                bestSupport = support
            }
        }
        var coef = best ?: return null
        repeat(2) {
            val inliers = BooleanArray(n) { residual(coef, it) < tol }
            coef = Linear.leastSquares(xs, ys, target, inliers)
        }
        return RowFit(coef, BooleanArray(n) { residual(coef, it) < tol })
    }

    /**
     * Vertical misalignment, camera side and disparity range of a pair from its matches. `thresholdPx` is at the
     * working scale: with a `manifest` the limit in full-resolution px is thresholdPx / the working scale of the
     * measured disparity, else thresholdPx.
     */
    fun checkMatches(matches: Matches, monoHeight: Int, monoWidth: Int, colorHeight: Int, colorWidth: Int,
                     manifest: ModelManifest? = null, thresholdPx: Double = MAX_ERROR_PX): RectificationReport {
        val monoCentre = centre(monoHeight, monoWidth)
        val colorCentre = centre(colorHeight, colorWidth)
        val fit = fitRows(matches, monoCentre, colorCentre)
        if (fit == null || fit.count < MIN_MATCHES) {
            val nan = Double.NaN
            return RectificationReport(fit?.count ?: 0, true, false, nan, thresholdPx, null, nan, nan,
                DoubleArray(4) { nan }, DoubleArray(4) { nan }, nan, nan, nan, nan, nan, DoubleArray(3) { nan })
        }
        val (a, b, c) = fit.coef.toList()
        val picked = fit.inliers.indices.filter { fit.inliers[it] }
        val monoX = DoubleArray(picked.size) { matches.mono[2 * picked[it]] - monoCentre[0] }
        val monoY = DoubleArray(picked.size) { matches.mono[2 * picked[it] + 1] - monoCentre[1] }
        val colorX = DoubleArray(picked.size) { matches.color[2 * picked[it]] - colorCentre[0] }
        val colorY = DoubleArray(picked.size) { matches.color[2 * picked[it] + 1] - colorCentre[1] }
        // The colour keypoints as the similarity puts them in the mono frame (see `correction`).
        val inMonoX = DoubleArray(picked.size) { b * colorX[it] - a * colorY[it] }
        val inMonoY = DoubleArray(picked.size) { a * colorX[it] + b * colorY[it] + c }
        val rowScale = hypot(a, b)
        val dy = DoubleArray(picked.size) { colorY[it] * rowScale - monoY[it] }
        val residual = DoubleArray(picked.size) { monoY[it] - inMonoY[it] }
        val dyMedian = Stats.median(dy)
        val residualMedian = Stats.median(residual)
        val dySpread = MAD_TO_STD * Stats.median(DoubleArray(residual.size) { abs(residual[it] - residualMedian) })
        val (dyCorners, uncertainty) = corners(fit.coef, colorX, colorY, monoHeight, monoWidth, dySpread)
        val established = dyCorners.indices.map { max(abs(dyCorners[it]) - uncertainty[it], 0.0) }.max()!!
        val verticalError = max(abs(dyMedian), established) + dySpread
        val dx = DoubleArray(picked.size) { inMonoX[it] - monoX[it] }
        val dxMedian = Stats.median(dx)
        val side = when {
            abs(dxMedian) < SIDE_MIN_DX_PX / matches.scale -> null
            dxMedian > 0 -> CameraSide.LEFT
            else -> CameraSide.RIGHT
        }
        val (low, high) = disparityExtent(dx, monoX, monoY, max(monoHeight, monoWidth), side)
        val limit = thresholdPx / (manifest?.window(alongSide(low, high, side))?.first ?: 1.0)
        return RectificationReport(picked.size, false, verticalError <= limit, verticalError, limit, side, dyMedian,
            dySpread, dyCorners, uncertainty, Math.toDegrees(atan2(a, b)), 1.0 / rowScale, low, high,
            anisotropy(inMonoX, dx, monoWidth), doubleArrayOf(a, b, c),
            DoubleArray(3 * picked.size) { i ->
                val k = i / 3
                when (i % 3) { 0 -> monoX[k] + monoCentre[0]; 1 -> monoY[k] + monoCentre[1]; else -> dx[k] }
            })
    }

    /**
     * The 1st..99th percentiles of the disparities dx (matches at x, y), widened at the near end (the larger dx with
     * the colour camera on the left, the smaller on the right, either if `side` is null: unknown) to every
     * disparity beyond them that RANGE_SUPPORT matches agree on, within RANGE_SUPPORT_RADIUS of the image's longer side
     * and RANGE_SUPPORT_PX + RANGE_SUPPORT_SLOPE |dx| of it: a near object may hold under 1 % of the matches, a lone
     * mismatch is one match. The far end is left alone: disparities shrink towards the horizon, within the slack.
     */
    fun disparityExtent(dx: DoubleArray, x: DoubleArray, y: DoubleArray, imageSide: Int,
                        side: CameraSide?): Pair<Double, Double> {
        val p1 = Stats.percentile(dx, 1.0)
        val p99 = Stats.percentile(dx, 99.0)
        var low = p1
        var high = p99
        val radius = RANGE_SUPPORT_RADIUS * imageSide
        for (i in dx.indices) {
            val nearEnd = (dx[i] < p1 && side != CameraSide.LEFT) || (dx[i] > p99 && side != CameraSide.RIGHT)
            if (!nearEnd) continue
            val tolerance = RANGE_SUPPORT_PX + RANGE_SUPPORT_SLOPE * abs(dx[i])
            val support = dx.indices.count {
                abs(dx[it] - dx[i]) <= tolerance && hypot(x[it] - x[i], y[it] - y[i]) <= radius
            }
            if (support >= RANGE_SUPPORT) {
                low = minOf(low, dx[i])
                high = max(high, dx[i])
            }
        }
        return Pair(low, high)
    }

    /**
     * The fitted dy at the mono image's four corners and CORNER_SIGMAS standard errors of each: a roll fitted to
     * noisy matches near the centre reaches the corners only by extrapolation, and counts only beyond that.
     */
    private fun corners(fit: DoubleArray, colorX: DoubleArray, colorY: DoubleArray, height: Int, width: Int,
                        dySpread: Double): Pair<DoubleArray, DoubleArray> {
        val (cx, cy) = centre(height, width).toList()
        val cornerX = doubleArrayOf(-cx, width - 1 - cx, -cx, width - 1 - cx)
        val cornerY = doubleArrayOf(-cy, -cy, height - 1 - cy, height - 1 - cy)
        val dy = DoubleArray(4) { cornerY[it] - (fit[0] * cornerX[it] + fit[1] * cornerY[it] + fit[2]) }
        val normal = Array(3) { DoubleArray(3) }
        for (i in colorX.indices) {
            val row = doubleArrayOf(colorX[i], colorY[i], 1.0)
            for (j in 0..2) for (k in 0..2) normal[j][k] += row[j] * row[k]
        }
        val inverse = Linear.inverse(normal)
        val uncertainty = DoubleArray(4) { k ->
            val corner = doubleArrayOf(cornerX[k], cornerY[k], 1.0)
            var leverage = 0.0
            for (j in 0..2) for (l in 0..2) leverage += corner[j] * inverse[j][l] * corner[l]
            CORNER_SIGMAS * dySpread * sqrt(leverage)
        }
        return Pair(dy, uncertainty)
    }

    /**
     * The median slope of dx against x over pairs of matches a quarter of the width apart or more: a disparity depends
     * on depth, not on x, so a slope says the rows were scaled apart from the columns (by 1 + slope).
     */
    private fun anisotropy(x: DoubleArray, dx: DoubleArray, width: Int): Double {
        val draws = NumpyRandom().integers(x.size, 2 * ANISOTROPY_PAIRS)
        val slopes = ArrayList<Double>()
        for (k in 0 until ANISOTROPY_PAIRS) {
            val first = draws[k]
            val second = draws[ANISOTROPY_PAIRS + k]
            if (abs(x[first] - x[second]) >= width / 4.0) slopes.add((dx[first] - dx[second]) / (x[first] - x[second]))
        }
        return if (slopes.size < MIN_MATCHES) 0.0 else Stats.median(slopes.toDoubleArray())
    }

    /** Whether the cameras sit one above the other: the column model explains VERTICAL_BASELINE_RATIO times more. */
    fun verticalBaseline(matches: Matches, monoHeight: Int, monoWidth: Int, colorHeight: Int, colorWidth: Int): Boolean {
        val rows = fitRows(matches, centre(monoHeight, monoWidth), centre(colorHeight, colorWidth))
        val columns = fitRows(matches.transposed(), centre(monoWidth, monoHeight), centre(colorWidth, colorHeight))
            ?: return false
        return columns.count >= MIN_MATCHES && columns.count > VERTICAL_BASELINE_RATIO * (rows?.count ?: 0)
    }

    /** Whether the colour camera has another resolution or field of view (always corrected), not only drift. */
    fun anotherView(report: RectificationReport, monoHeight: Int, monoWidth: Int, colorHeight: Int, colorWidth: Int): Boolean =
        monoHeight != colorHeight || monoWidth != colorWidth || abs(report.scale - 1.0) > MAX_SCALE_CHANGE

    /** Why the correction `report` calls for is not a phone's dual camera, or null if it is one. */
    fun implausibleCorrection(report: RectificationReport, monoHeight: Int): String? {
        if (abs(report.anisotropy) > MAX_ANISOTROPY) {
            return "is stretched: its rows are scaled ${Format.fixed(1 + report.anisotropy, 2)} times as much as its " +
                "columns (an image resized without keeping its aspect ratio?); a camera's image is not"
        }
        val shift = -report.rowFit[2]  // the fitted dy at the centre
        val scaleOk = report.scale in 1 / MAX_RESOLUTION_RATIO..MAX_RESOLUTION_RATIO
        if (abs(report.rotationDeg) <= MAX_ROTATION_DEG && scaleOk && abs(shift) <= MAX_SHIFT_FRACTION * monoHeight) return null
        return "is rotated ${Format.fixed(report.rotationDeg, 1)} degrees, scaled ${Format.fixed(report.scale, 3)} and " +
            "shifted ${Format.fixed(shift, 1)} px vertically from the mono image; a phone's dual camera is within " +
            "${Format.general(MAX_ROTATION_DEG)} degrees, a resolution ratio of ${Format.general(MAX_RESOLUTION_RATIO)} " +
            "and ${Format.fixed(MAX_SHIFT_FRACTION * 100, 0)}% of the height"
    }

    /**
     * The 2x3 affine map of colour (x, y) into the mono frame: the fitted row, and the column rotated and scaled alike,
     * about the image centres.
     */
    fun correction(report: RectificationReport, monoHeight: Int, monoWidth: Int, colorHeight: Int, colorWidth: Int): DoubleArray {
        val (a, b, c) = report.rowFit.toList()
        val (mx, my) = centre(monoHeight, monoWidth).toList()
        val (cx, cy) = centre(colorHeight, colorWidth).toList()
        return doubleArrayOf(b, -a, mx - b * cx + a * cy, a, b, my + c - a * cx - b * cy)
    }
}

/** numpy's median and linear percentile. */
object Stats {
    /** np.median: the middle value, or the mean of the middle two. */
    fun median(values: DoubleArray): Double {
        val sorted = values.sortedArray()
        val middle = sorted.size / 2
        return if (sorted.size % 2 == 1) sorted[middle] else (sorted[middle - 1] + sorted[middle]) / 2
    }

    /** np.percentile(values, q) with its default linear method, interpolated as numpy's _lerp does it. */
    fun percentile(values: DoubleArray, q: Double): Double {
        val sorted = values.sortedArray()
        val index = (sorted.size - 1) * (q / 100)
        val below = floor(index).toInt().coerceIn(0, sorted.size - 1)
        val above = minOf(below + 1, sorted.size - 1)
        val t = index - below
        val difference = sorted[above] - sorted[below]
        return if (t >= 0.5) sorted[above] - difference * (1 - t) else sorted[below] + difference * t
    }
}

/** Small dense linear algebra for the row model: 3x3 systems as LAPACK solves them (partial pivoting). */
object Linear {
    fun det3(m: Array<DoubleArray>): Double =
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
            m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])

    /** x with m x = v, or null where m is singular. */
    fun solve(m: Array<DoubleArray>, v: DoubleArray): DoubleArray? {
        val n = v.size
        val a = Array(n) { m[it].copyOf() }
        val x = v.copyOf()
        for (col in 0 until n) {
            var pivot = col
            for (r in col + 1 until n) if (abs(a[r][col]) > abs(a[pivot][col])) pivot = r
            if (a[pivot][col] == 0.0) return null
            if (pivot != col) {
                val row = a[pivot]; a[pivot] = a[col]; a[col] = row
                val value = x[pivot]; x[pivot] = x[col]; x[col] = value
            }
            for (r in col + 1 until n) {
                val factor = a[r][col] / a[col][col]
                for (k in col until n) a[r][k] -= factor * a[col][k]
                x[r] -= factor * x[col]
            }
        }
        for (r in n - 1 downTo 0) {
            var sum = x[r]
            for (k in r + 1 until n) sum -= a[r][k] * x[k]
            x[r] = sum / a[r][r]
        }
        return x
    }

    fun inverse(m: Array<DoubleArray>): Array<DoubleArray> {
        val columns = (0..2).map { solve(m, DoubleArray(3) { k -> if (k == it) 1.0 else 0.0 }) ?: DoubleArray(3) { Double.NaN } }
        return Array(3) { r -> DoubleArray(3) { c -> columns[c][r] } }
    }

    /** Least squares of target ~ a x + b y + c over the selected rows, through the normal equations. */
    fun leastSquares(xs: DoubleArray, ys: DoubleArray, target: DoubleArray, selected: BooleanArray): DoubleArray {
        val normal = Array(3) { DoubleArray(3) }
        val right = DoubleArray(3)
        for (i in xs.indices) {
            if (!selected[i]) continue
            val row = doubleArrayOf(xs[i], ys[i], 1.0)
            for (j in 0..2) {
                right[j] += row[j] * target[i]
                for (k in 0..2) normal[j][k] += row[j] * row[k]
            }
        }
        return solve(normal, right) ?: DoubleArray(3) { Double.NaN }
    }
}

/** Python's number formats for messages, in the root locale: f"{x:.Nf}", f"{x:+.Nf}" and f"{x:g}". */
object Format {
    fun fixed(value: Double, decimals: Int): String = String.format(java.util.Locale.ROOT, "%.${decimals}f", value)

    fun signed(value: Double, decimals: Int): String = String.format(java.util.Locale.ROOT, "%+.${decimals}f", value)

    fun general(value: Double): String = if (value == Math.rint(value)) value.toLong().toString() else value.toString()
}
