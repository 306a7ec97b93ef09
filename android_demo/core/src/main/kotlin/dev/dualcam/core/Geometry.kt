package dev.dualcam.core

import kotlin.math.abs
import kotlin.math.max
import kotlin.math.min

/** A pair the geometry must refuse; the message names the image and says what was seen. */
class GeometryError(message: String) : IllegalArgumentException(message)

/** How the caller steers the measurement (dualcam.runtime.geometry.GeometryOptions, and the phone's overrides). */
class GeometryOptions(
    /** The colour camera's side as the caller knows it; null: measured. */
    val cameraSide: CameraSide? = null,
    /**
     * The pair's smallest and largest disparity (full-resolution px, the colour camera's side positive) as the caller
     * knows them (a calibrated rig); null: measured.
     */
    val pairDisparities: Pair<Double, Double>? = null,
    /** Correct a same-size pair whose rows are not aligned, instead of refusing it. */
    val rectify: Boolean = false,
    /** Colour a pair that cannot be verified or stays misaligned, instead of refusing it. */
    val acceptUnverified: Boolean = false
)

/** What the measurement decided, and the checks it decided from. */
class Geometry(
    val arrangement: Arrangement,
    val cameraSide: CameraSide,
    val before: RectificationReport,
    /** The corrected pair matched again, where the colour image was warped onto the mono grid. */
    val after: RectificationReport?,
    /** The smallest and largest disparity the scale and offset were chosen from (full-resolution px), or null. */
    val disparities: Pair<Double, Double>?,
    val warnings: List<String>
) {
    companion object {
        /**
         * The pair's arrangement for a model of `manifest`, from one set of feature matches, as
         * dualcam.runtime.geometry.measure decides it: a portrait shot is turned into rows, a colour image of another
         * resolution or field of view (or, with `rectify`, a misaligned one) is brought onto the mono grid and matched
         * again to verify it, and the camera side and disparity range (hence the working scale and candidate offset)
         * are measured. Raises GeometryError, worded as the runtime words it, for a pair it must refuse. `options` may
         * give the side or the disparity range instead; the pair is still checked.
         */
        fun measure(monoY: Raster, colorRgb: Raster, manifest: ModelManifest, options: GeometryOptions = GeometryOptions(),
                    monoName: String = "the mono image", colorName: String = "the colour image"): Geometry {
            var matches = Matching.siftMatches(monoY, colorRgb)
            val transposed = Rectify.verticalBaseline(matches, monoY.height, monoY.width, colorRgb.height, colorRgb.width)
            var mono = Pair(monoY.height, monoY.width)
            var color = Pair(colorRgb.height, colorRgb.width)
            if (transposed) {  // a portrait shot: the cameras one above the other
                matches = matches.transposed()
                mono = Pair(mono.second, mono.first)
                color = Pair(color.second, color.first)
            }
            val warnings = ArrayList<String>()
            val before = Rectify.checkMatches(matches, mono.first, mono.second, color.first, color.second, manifest)
            val toMono = if (before.tooFewMatches) unverified(before, mono, color, options, warnings, monoName, colorName)
                else correction(before, mono, color, options, colorName)
            var arrangement = Arrangement(monoY.height, monoY.width, transposed, colorToMono = toMono)
            val after = if (toMono != null && !before.tooFewMatches) {
                verify(monoY, colorRgb, arrangement, before, color, manifest, options, warnings, colorName)
            } else null
            val side = cameraSide(before, options.cameraSide, warnings)
            val last = after ?: before
            val measured = if (last.tooFewMatches) null
                else Rectify.alongSide(last.disparityLow, last.disparityHigh, side)
            val disparities = options.pairDisparities ?: measured
            val (scale, offset) = manifest.window(disparities)
            val samples = if (last.tooFewMatches) null else last.samples?.let { mirrored(it, side, arrangement.fullShape.second) }
            arrangement = arrangement.copy(flipped = side == CameraSide.RIGHT, scale = scale, offset = offset, samples = samples)
            // Rows stay within the network's tolerance at a higher scale only as far as the vertical error allows.
            val aligned = if (last.verticalError > 0) Rectify.MAX_ERROR_PX / last.verticalError else 1.0
            return Geometry(tileWindows(arrangement, disparities, manifest, min(1.0, aligned)), side, before, after,
                disparities, warnings)
        }

        /** The working scales tried for tile windows, each this much below the last. */
        private const val TILE_SCALE_STEP = 0.95

        /** A check's (x, y, dx) samples in the network's frame: mirrored with the image for a colour camera on the right. */
        private fun mirrored(samples: DoubleArray, side: CameraSide, width: Int): DoubleArray =
            if (side == CameraSide.LEFT) samples
            else DoubleArray(samples.size) { if (it % 3 == 1) samples[it] else if (it % 3 == 0) width - 1 - samples[it] else -samples[it] }

        /**
         * A higher working scale than the pair's window allows, where each tile's own disparities fit its candidates
         * though the pair's do not: the highest, in steps of TILE_SCALE_STEP, at which every tile of the model's tile
         * has matches enough and its window fits them (dualcam.runtime.geometry).
         */
        private fun tileWindows(arrangement: Arrangement, disparities: Pair<Double, Double>?, manifest: ModelManifest,
                                maxScale: Double): Arrangement {
            if (arrangement.samples == null || disparities == null) return arrangement
            var trialScale = maxScale
            while (trialScale > arrangement.scale) {
                val trial = arrangement.copy(scale = trialScale, offset = ChromaScale.windowOffset(disparities.first,
                    trialScale, manifest.maxDisparity, manifest.rangeMargin))
                val (height, width) = trial.shape
                if (trial.tileWindows(manifest.grid(height, width), manifest.rangeMargin).all { it.second }) return trial
                trialScale *= TILE_SCALE_STEP
            }
            return arrangement
        }

        /**
         * Too few matches: refused, or (acceptUnverified) assumed rectified, the colour image stretched onto the mono
         * grid if its size differs.
         */
        private fun unverified(check: RectificationReport, mono: Pair<Int, Int>, color: Pair<Int, Int>,
                               options: GeometryOptions, warnings: MutableList<String>, monoName: String,
                               colorName: String): DoubleArray? {
            if (!options.acceptUnverified) {
                throw GeometryError("$colorName: cannot be verified against $monoName: ${check.matches} feature matches " +
                    "fit one geometry, ${Rectify.MIN_MATCHES} are needed. Are both images of the same scene, taken at the " +
                    "same moment? (acceptUnverified colours it anyway, assuming a rectified pair with the colour camera " +
                    "on the left)")
            }
            warnings.add("unverified pair (${check.matches} matches): assumed rectified, colour camera on the left, " +
                "disparities within the model's range")
            if (mono == color) return null
            val sx = mono.second.toDouble() / color.second
            val sy = mono.first.toDouble() / color.first  // pixel centres onto pixel centres
            return doubleArrayOf(sx, 0.0, (sx - 1) / 2, 0.0, sy, (sy - 1) / 2)
        }

        /**
         * The correction onto the mono grid (null if none is needed); refuses what no camera makes, and drift the
         * options do not allow to be corrected.
         */
        private fun correction(check: RectificationReport, mono: Pair<Int, Int>, color: Pair<Int, Int>,
                               options: GeometryOptions, colorName: String): DoubleArray? {
            val problem = Rectify.implausibleCorrection(check, mono.first)
            val resized = Rectify.anotherView(check, mono.first, mono.second, color.first, color.second)
            if (check.rectified && !resized && problem == null) return null
            if (problem != null && (resized || check.rectified)) throw GeometryError("$colorName: the colour image $problem")
            if (problem != null || !(options.rectify || resized)) throw GeometryError("$colorName: ${notRectified(check, problem)}")
            return Rectify.correction(check, mono.first, mono.second, color.first, color.second)
        }

        /** The corrected pair matched again at the matching resolution; refused if it stays misaligned. */
        private fun verify(monoY: Raster, colorRgb: Raster, arrangement: Arrangement, before: RectificationReport,
                           color: Pair<Int, Int>, manifest: ModelManifest, options: GeometryOptions,
                           warnings: MutableList<String>, colorName: String): RectificationReport {
            val (height, width) = arrangement.fullShape
            val small = arrangement.copy(scale = min(1.0, Matching.MAX_SIDE.toDouble() / max(height, width)))
            val found = Matching.siftMatches(small.mono(monoY), small.reference(colorRgb).channel(0))
            val (smallHeight, smallWidth) = small.shape
            val toFullX = width.toDouble() / smallWidth  // small px -> full-resolution px, per axis
            val toFullY = height.toDouble() / smallHeight
            fun toFull(xy: DoubleArray) = DoubleArray(xy.size) { xy[it] * if (it % 2 == 0) toFullX else toFullY }
            val after = Rectify.checkMatches(Matches(toFull(found.mono), toFull(found.color), found.scale / max(toFullX, toFullY)),
                height, width, height, width, manifest)
            if (Rectify.anotherView(before, height, width, color.first, color.second)) {  // a vertical error between two scales means nothing
                warnings.add("brought the colour image from ${colorRgb.width}x${colorRgb.height} onto the mono image's " +
                    "${monoY.width}x${monoY.height} grid (scale ${Format.fixed(before.scale, 3)}, rotation " +
                    "${Format.signed(before.rotationDeg, 2)} deg); vertical error left: ${Format.fixed(after.verticalError, 2)} px")
            } else {
                warnings.add("corrected the colour image: vertical error ${Format.fixed(before.verticalError, 2)} -> " +
                    "${Format.fixed(after.verticalError, 2)} px")
            }
            if (!after.rectified && !options.acceptUnverified) {
                throw GeometryError("$colorName: stays misaligned after correction: vertical error " +
                    "${Format.fixed(after.verticalError, 1)} px, limit ${Format.fixed(after.limitPx, 1)} px at this pair's " +
                    "working scale; the cameras may not be a fixed dual camera, or the scene moved between the shots " +
                    "(acceptUnverified colours it anyway)")
            }
            return after
        }

        private fun notRectified(check: RectificationReport, problem: String?): String {
            val what = "the pair is not rectified: vertical error ${Format.fixed(check.verticalError, 1)} px (median dy " +
                "${Format.signed(check.dyMedian, 1)} px, rotation ${Format.signed(check.rotationDeg, 2)} deg; limit " +
                "${Format.fixed(check.limitPx, 1)} px at this pair's working scale); "
            if (problem == null) return what + "rerun with rectify to correct it"
            return what + "the colour image $problem, which rectify does not correct" +
                if (abs(check.rotationDeg) > 45) " (is one image upside down or turned?)" else ""
        }

        /** The side given, else the measured one, else left (the network's own arrangement). */
        private fun cameraSide(check: RectificationReport, asked: CameraSide?, warnings: MutableList<String>): CameraSide {
            val measured = check.side
            if (asked == null) {
                if (measured == null && !check.tooFewMatches) warnings.add("no parallax to tell the colour camera's side: assuming it is on the left")
                return measured ?: CameraSide.LEFT
            }
            if (measured != null && measured != asked) {
                warnings.add("camera side ${asked.label} was given, but the matches put the colour camera on the " +
                    measured.label)
            }
            return asked
        }
    }
}
