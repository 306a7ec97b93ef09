package dev.dualcam.core

import dev.dualcam.core.Golden.assertClose
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import kotlin.math.abs

/**
 * The pair's geometry against dualcam.runtime (golden.json): numpy's random stream, CLAHE, the matching image, SIFT,
 * the warp onto the mono grid, the row model on the runtime's own SIFT matches of real pairs (to rounding), and
 * `Geometry.measure` end to end with the Kotlin SIFT on the pairs the runtime's tests build (its decisions: side,
 * refusal, portrait, correction, and the working scale within 10 %).
 */
class GeometryTest {
    private val manifest = Manifests.shipped()

    @Test
    fun numpyRandomDrawsWhatNumpyDraws() {
        val g = Golden.section("random")
        assertEquals(g.text("state"), "%016x%016x".format(NumpyRandom.SEED0_HIGH, NumpyRandom.SEED0_LOW))
        assertEquals(g.text("inc"), "%016x%016x".format(NumpyRandom.INCREMENT_HIGH, NumpyRandom.INCREMENT_LOW))
        for (case in Golden.list(g["draws"])) {
            val random = NumpyRandom()
            val expected = (case["values"] as List<*>).map { (it as Double).toLong() }
            assertEquals("integers(0, ${case["high"]})", expected, expected.map { random.integer(case.number("high").toLong()) })
        }
    }

    @Test
    fun claheMatchesOpenCv() {
        for (case in Golden.list(Golden.root["clahe"])) {
            val image = GreyBytes(case.int("height"), case.int("width"), Golden.ints(case["image"]).map { it.toByte() }.toByteArray())
            val result = Matching.clahe(image).data.map { it.toInt() and 0xff }
            assertEquals("CLAHE of ${image.width}x${image.height}", Golden.ints(case["result"]).toList(), result)
        }
    }

    @Test
    fun matchingImageIsTheRuntimes() {
        val g = Golden.section("matching_image")
        val (image, scale) = Matching.toU8(Pairs.sampleColor, g.int("max_side"))
        assertEquals(g.number("scale"), scale, 0.0)
        assertEquals(listOf(g.int("height"), g.int("width")), listOf(image.height, image.width))
        val expected = Golden.ints(g["data"])
        val apart = expected.indices.filter { expected[it] != (image.data[it].toInt() and 0xff) }
        // One level apart where OpenCV's area averages round the other way (its integer-scale fast path sums differently).
        assertTrue("${apart.size} of ${expected.size} pixels differ", apart.size <= expected.size / 100 &&
            apart.all { abs(expected[it] - (image.data[it].toInt() and 0xff)) <= 1 })
    }

    @Test
    fun siftFindsOpenCvsKeypointsWithItsDescriptors() {
        val g = Golden.section("sift")
        val (top, left, height, width) = Golden.ints(g["crop"]).toList()
        val crop = FloatImage(height, width, 1, FloatArray(height * width) { Pairs.sampleMono[top + it / width, left + it % width] })
        val (image, _) = Matching.toU8(crop)
        val found = Sift.detectAndCompute(image.data, image.width, image.height, Matching.MAX_FEATURES)
        val expected = Golden.list(g["keypoints"])
        var same = 0
        var descriptorsClose = 0
        for (k in expected) {
            val match = found.keypoints.indices.firstOrNull { i ->
                val f = found.keypoints[i]
                abs(f.x - k.number("x")) < 0.05 && abs(f.y - k.number("y")) < 0.05 && abs(f.size / k.number("size") - 1) < 0.01 &&
                    abs(((f.angle - k.number("angle") + 540) % 360) - 180) < 1
            } ?: continue
            same++
            val descriptor = Golden.ints(k["descriptor"])
            val distance = Math.sqrt(descriptor.indices.sumByDouble { (descriptor[it] - found.descriptors[match][it]).toDouble().let { d -> d * d } })
            if (distance < 20) descriptorsClose++  // descriptors have norm 512; the ratio test works on distances of ~100-400
        }
        assertTrue("$same of ${expected.size} of OpenCV's keypoints found (${found.keypoints.size} in all)",
            same >= 0.95 * expected.size && found.keypoints.size <= 1.05 * expected.size)
        assertTrue("$descriptorsClose of $same descriptors close", descriptorsClose >= 0.95 * same)
    }

    @Test
    fun warpOntoTheMonoGridMatchesTheRuntimesArrangement() {
        val g = Golden.section("warp")
        val color = Golden.image(g["color"])
        for (case in Golden.list(g["cases"])) {
            val transposed = case["transposed"] as Boolean
            val arrangement = Arrangement(case.int("mono_height"), case.int("mono_width"), transposed, case["flipped"] as Boolean,
                case.number("scale"), Golden.doubles(case["color_to_mono"]))
            val given = if (transposed) Pairs.materialize(Transposed(color)) else color
            assertClose("warped reference, $case".take(80), Golden.image(case["reference"]), arrangement.reference(given), 2e-6f)
        }
    }

    private fun rectifyCase(name: String): Map<String, Any?> = Golden.list(Golden.root["rectify"]).first { it["name"] == name }

    /** The runtime's SIFT matches of a case, exactly as sift_matches returned them. */
    private fun matches(case: Map<String, Any?>): Matches {
        val m = case.obj("matches")
        val scaleMono = m.number("scale_mono")
        val scaleColor = m.number("scale_color")
        val mono = Golden.floats(m["mono"]).map { it.toDouble() / scaleMono }.toDoubleArray()
        val color = Golden.floats(m["color"]).map { it.toDouble() / scaleColor }.toDoubleArray()
        return Matches(mono, color, scaleMono)
    }

    /** checkMatches on the runtime's matches of a case, after the transposition the runtime found, and its report. */
    private fun check(name: String, withModel: Boolean = true): Pair<RectificationReport, Map<String, Any?>> {
        val case = rectifyCase(name)
        val (mh, mw) = Golden.ints(case["mono_shape"]).toList()
        val (ch, cw) = Golden.ints(case["color_shape"]).toList()
        var found = matches(case)
        assertEquals("$name: vertical baseline", case["vertical_baseline"], Rectify.verticalBaseline(found, mh, mw, ch, cw))
        val transposed = case["vertical_baseline"] == true
        if (transposed) found = found.transposed()
        val report = if (transposed) Rectify.checkMatches(found, mw, mh, cw, ch, if (withModel) manifest else null)
            else Rectify.checkMatches(found, mh, mw, ch, cw, if (withModel) manifest else null)
        return Pair(report, case)
    }

    private fun assertReport(name: String, expected: Map<String, Any?>, actual: RectificationReport) {
        fun close(what: String, e: Double, a: Double) =
            assertEquals("$name: $what", e, a, 1e-7 * maxOf(1.0, abs(e)))
        assertEquals("$name: inliers", expected.int("n_matches"), actual.matches)
        assertEquals("$name: too few", expected["too_few_matches"], actual.tooFewMatches)
        assertEquals("$name: rectified", expected["rectified"], actual.rectified)
        assertEquals("$name: side", expected["side"], actual.side?.label ?: "unknown")
        if (actual.tooFewMatches) return
        close("vertical error", expected.number("vertical_error"), actual.verticalError)
        close("limit", expected.number("limit_px"), actual.limitPx)
        close("median dy", expected.number("dy_median"), actual.dyMedian)
        close("dy spread", expected.number("dy_spread"), actual.dySpread)
        for (i in 0..3) {
            close("corner $i", Golden.doubles(expected["dy_corners"])[i], actual.dyCorners[i])
            close("corner $i uncertainty", Golden.doubles(expected["dy_corners_uncertainty"])[i], actual.dyCornersUncertainty[i])
        }
        close("rotation", expected.number("rotation_deg"), actual.rotationDeg)
        close("scale", expected.number("scale"), actual.scale)
        val range = Golden.doubles(expected["disparity_range"])
        close("disparity low", range[0], actual.disparityLow)
        close("disparity high", range[1], actual.disparityHigh)
        close("anisotropy", expected.number("anisotropy"), actual.anisotropy)
        for (i in 0..2) close("row fit $i", Golden.doubles(expected["row_fit"])[i], actual.rowFit[i])
    }

    @Test
    fun rowModelOfARectifiedPairIsTheRuntimes() {
        val (report, case) = check("sample")
        assertReport("sample", case.obj("report"), report)
        assertEquals(case.number("plain_limit_px"), check("sample", withModel = false).first.limitPx, 0.0)
        assertFalse(Rectify.anotherView(report, 500, 741, 500, 741))
        assertNull(Rectify.implausibleCorrection(report, 500))
    }

    @Test
    fun rowModelOfARotatedColourImageAndItsCorrectionAreTheRuntimes() {
        val (report, case) = check("colour rotated 1.5 degrees")
        assertReport("rotated", case.obj("report"), report)
        assertFalse(report.rectified)
        assertArrayEquals(Golden.doubles(case["correction"]), Rectify.correction(report, 500, 741, 500, 741), 1e-6)
    }

    @Test
    fun rowModelOfAColourCameraOfAnotherResolutionIsTheRuntimes() {
        val (report, case) = check("colour camera at 0.75x")
        assertReport("0.75x", case.obj("report"), report)
        assertTrue(Rectify.anotherView(report, 500, 741, 375, 556))
        assertArrayEquals(Golden.doubles(case["correction"]), Rectify.correction(report, 500, 741, 375, 556), 1e-6)
    }

    @Test
    fun aRigOneAboveTheOtherIsFoundAndItsRowsModelled() {
        val name = "portrait rig, colour view 1.25x, rolled and shifted, mirrored"
        val (report, case) = check(name)
        assertEquals(true, case["vertical_baseline"])
        assertReport("portrait rig", case.obj("report"), report)
        assertEquals(case["another_view"], Rectify.anotherView(report, 741, 500, 741, 500))
    }

    @Test
    fun aStretchedColourImageIsCalledStretchedInTheRuntimesWords() {
        val (report, case) = check("colour stretched to 741x300")
        assertReport("stretched", case.obj("report"), report)
        assertEquals(case["implausible"], Rectify.implausibleCorrection(report, 500))
    }

    @Test
    fun tooFewMatchesLeaveThePairUnverified() {
        val (report, case) = check("unrelated colour image")
        assertReport("unrelated", case.obj("report"), report)
        assertTrue(report.tooFewMatches && report.verticalError.isNaN() && report.side == null)
    }

    /**
     * A golden GEOMETRY_CASES pair measured by the Kotlin matcher: the same refusal (its kind and telling words), or
     * the same side, arrangement and correction with a working scale within 10 % of the runtime's and a candidate
     * offset within a px.
     */
    private fun assertMeasuredAsTheRuntime(name: String) {
        val case = Golden.list(Golden.root["geometry_cases"]).first { it["name"] == name }
        val (mono, color) = Pairs.geometryCase(case)
        assertEquals("$name: shapes", Golden.ints(case["mono_shape"]).toList() + Golden.ints(case["color_shape"]).toList(),
            listOf(mono.height, mono.width, color.height, color.width))
        val options = GeometryOptions(rectify = case["rectify"] == true, acceptUnverified = case["accept_unverified"] == true)
        val refused = case["refused"] as String?
        val geometry = try {
            Geometry.measure(mono, color, manifest, options, "mono.png", "color.png")
        } catch (error: GeometryError) {
            val problem = error.message!!.removePrefix("color.png: ")
            if (refused == null) fail("$name: refused ($problem); the runtime colours it")
            assertEquals("$name: $problem", refused!!.substringBefore(':'), problem.substringBefore(':'))
            for (words in listOf("is stretched", "is rotated", "upside down")) {
                assertEquals("$name: '$words' in $problem", words in refused, words in problem)
            }
            return
        }
        if (refused != null) fail("$name: coloured; the runtime refuses it ($refused)")
        assertEquals("$name: side", case.text("camera_side"), geometry.cameraSide.label)
        assertEquals("$name: portrait", case["transposed"], geometry.arrangement.transposed)
        assertEquals("$name: corrected", case["corrected"], geometry.arrangement.colorToMono != null)
        val scale = geometry.arrangement.scale
        assertEquals("$name: working scale $scale", case.number("chroma_scale"), scale, 0.1 * case.number("chroma_scale"))
        assertEquals("$name: candidate offset", case.number("candidate_offset"), geometry.arrangement.offset.toDouble(), 1.0)
    }

    @Test
    fun landscapePairsGetTheRuntimesSideAndWorkingScale() {
        for (name in listOf("sample", "both mirrored")) assertMeasuredAsTheRuntime(name)
    }

    @Test
    fun misalignedPairsAreRefusedOrCorrectedAsTheRuntimeDoes() {
        for (name in listOf("colour shifted 8 rows", "colour shifted 8 rows, rectify", "colour rotated 1.5 degrees",
                "colour rotated 1.5 degrees, rectify", "colour keystone 25 px, rectify")) assertMeasuredAsTheRuntime(name)
    }

    @Test
    fun turnedUnrelatedAndStretchedColourImagesAreRefusedAsTheRuntimeRefusesThem() {
        for (name in listOf("colour rotated 20 degrees, rectify", "colour upside down", "unrelated colour image",
                "colour stretched to 741x300", "colour stretched to 900x500")) assertMeasuredAsTheRuntime(name)
    }

    @Test
    fun colourCamerasOfAnotherResolutionOrViewAreBroughtToTheMonoGrid() {
        for (name in listOf("colour camera at 0.75x", "colour camera at 0.5x", "narrower colour view at 1.1x")) {
            assertMeasuredAsTheRuntime(name)
        }
    }

    @Test
    fun portraitPairsAreTurnedIntoRows() {
        for (name in listOf("portrait", "portrait rig, colour view 0.8x",
                "portrait rig, colour view 1.25x, rolled and shifted, mirrored")) assertMeasuredAsTheRuntime(name)
    }

    @Test
    fun givenSideAndDisparityOverrideTheMeasurementButThePairIsStillChecked() {
        val measured = Geometry.measure(Pairs.sampleMono, Pairs.sampleColor, manifest, GeometryOptions(CameraSide.RIGHT, Pair(0.0, 150.0)))
        assertEquals(CameraSide.RIGHT, measured.cameraSide)
        assertTrue(measured.arrangement.flipped)
        assertEquals(manifest.window(Pair(0.0, 150.0)).first, measured.arrangement.scale, 0.0)
        assertTrue(measured.warnings.any { "camera side right was given, but the matches put the colour camera on the left" in it })
        try {
            Geometry.measure(Pairs.sampleMono, Pairs.rolled(Pairs.sampleColor, 8), manifest, GeometryOptions(CameraSide.LEFT, Pair(0.0, 58.0)))
            fail("a misaligned pair with its side and disparity given")
        } catch (error: GeometryError) {
            assertTrue(error.message!!, error.message!!.startsWith("the colour image: the pair is not rectified"))
        }
    }
}
