package dev.dualcam.core

import java.io.File
import javax.imageio.ImageIO
import kotlin.math.cos
import kotlin.math.sin

/** The repository's test pairs, from the folders the build names (-Ddualcam.samples, -Ddualcam.skimage). */
object Pairs {
    private fun folder(property: String) = File(System.getProperty(property) ?: error("set -D$property"))

    /** The bundled sample pair (Middlebury Motorcycle): the mono image is the right view's luma, the colour one the left view. */
    val sampleMono: FloatImage by lazy { read(File(folder("dualcam.samples"), "motorcycle_mono.png")) }
    val sampleColor: FloatImage by lazy { read(File(folder("dualcam.samples"), "motorcycle_color.png")) }

    /** scikit-image's stereo_motorcycle right view: the true colours of the sample's mono image. */
    val motorcycleRight: FloatImage by lazy { read(File(folder("dualcam.skimage"), "motorcycle_right.png")) }

    /** A PNG's samples / 255 (or / 65535), grey or RGB, as the runtime reads them. */
    fun read(file: File): FloatImage {
        val image = ImageIO.read(file) ?: error("$file is not an image")
        val raster = image.raster
        val bands = if (raster.numBands >= 3) 3 else 1
        val peak = ((1 shl image.colorModel.getComponentSize(0)) - 1).toFloat()
        val out = FloatImage(image.height, image.width, bands)
        val samples = IntArray(raster.numBands)
        for (y in 0 until image.height) for (x in 0 until image.width) {
            raster.getPixel(x, y, samples)
            for (c in 0 until bands) out[y, x, c] = samples[c] / peak
        }
        return out
    }

    /** Every sample of a raster view, computed once. */
    fun materialize(image: Raster): FloatImage {
        val out = FloatImage(image.height, image.width, image.channels)
        for (y in 0 until image.height) Resize.copyRow(image, y, out, y)
        return out
    }

    /** cv2.getRotationMatrix2D about the image centre: `degrees` counter-clockwise, scaled by `zoom`. */
    fun rotation(width: Int, height: Int, degrees: Double, zoom: Double = 1.0): DoubleArray {
        val alpha = zoom * cos(Math.toRadians(degrees))
        val beta = zoom * sin(Math.toRadians(degrees))
        val cx = (width - 1) / 2.0
        val cy = (height - 1) / 2.0
        return doubleArrayOf(alpha, beta, (1 - alpha) * cx - beta * cy, -beta, alpha, beta * cx + (1 - alpha) * cy)
    }

    /** cv2.warpAffine(image, forward, (width, height)) with bilinear sampling and replicated edges. */
    fun warp(image: Raster, forward: DoubleArray, height: Int = image.height, width: Int = image.width): FloatImage =
        materialize(AffineWarp(image, forward, height, width))

    /** Resized to (height, width), pixel centres onto pixel centres: area averages where it shrinks, else bilinear. */
    fun resize(image: Raster, height: Int, width: Int): FloatImage =
        if (height <= image.height && width <= image.width) Resize.area(image, height, width)
        else {
            val sx = width.toDouble() / image.width
            val sy = height.toDouble() / image.height
            warp(image, doubleArrayOf(sx, 0.0, (sx - 1) / 2, 0.0, sy, (sy - 1) / 2), height, width)
        }

    fun flippedVertically(image: FloatImage): FloatImage {
        val out = FloatImage(image.height, image.width, image.channels)
        for (y in 0 until image.height) Resize.copyRow(image, image.height - 1 - y, out, y)
        return out
    }

    /** np.rot90: a quarter turn counter-clockwise. */
    fun rotated90(image: FloatImage): FloatImage {
        val out = FloatImage(image.width, image.height, image.channels)
        for (y in 0 until out.height) for (x in 0 until out.width) for (c in 0 until image.channels) {
            out[y, x, c] = image[x, image.width - 1 - y, c]
        }
        return out
    }

    /** np.roll along the rows: content moves `rows` down, wrapping around. */
    fun rolled(image: FloatImage, rows: Int): FloatImage {
        val out = FloatImage(image.height, image.width, image.channels)
        for (y in 0 until image.height) Resize.copyRow(image, Math.floorMod(y - rows, image.height), out, y)
        return out
    }

    /** A perspective tilt no similarity undoes: the corners moved `pixels` up or down (cv2.warpPerspective, replicated). */
    fun keystone(image: FloatImage, pixels: Int): FloatImage {
        val w = image.width.toDouble()
        val h = image.height.toDouble()
        val from = listOf(0.0 to 0.0, w to 0.0, 0.0 to h, w to h)
        val to = listOf(0.0 to -pixels.toDouble(), w to pixels.toDouble(), 0.0 to h + pixels, w to h - pixels)
        // The homography taking the tilted corners back to the image's: where each output pixel reads.
        val system = Array(8) { DoubleArray(8) }
        val rhs = DoubleArray(8)
        for (i in 0..3) {
            val (u, v) = to[i]
            val (x, y) = from[i]
            system[2 * i] = doubleArrayOf(u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x)
            system[2 * i + 1] = doubleArrayOf(0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y)
            rhs[2 * i] = x
            rhs[2 * i + 1] = y
        }
        val m = Linear.solve(system, rhs)!!
        val out = FloatImage(image.height, image.width, image.channels)
        for (y in 0 until image.height) for (x in 0 until image.width) {
            val d = m[6] * x + m[7] * y + 1
            val sx = (m[0] * x + m[1] * y + m[2]) / d
            val sy = (m[3] * x + m[4] * y + m[5]) / d
            val ix = Math.floor(sx).toInt()
            val iy = Math.floor(sy).toInt()
            val fx = (sx - ix).toFloat()
            val fy = (sy - iy).toFloat()
            for (c in 0 until image.channels) {
                fun at(yy: Int, xx: Int) = image[yy.coerceIn(0, image.height - 1), xx.coerceIn(0, image.width - 1), c]
                val top = at(iy, ix) + fx * (at(iy, ix + 1) - at(iy, ix))
                val bottom = at(iy + 1, ix) + fx * (at(iy + 1, ix + 1) - at(iy + 1, ix))
                out[y, x, c] = top + fy * (bottom - top)
            }
        }
        return out
    }

    /** Smooth colour noise: nothing a camera pair would share with the sample. */
    fun unrelated(height: Int, width: Int): FloatImage {
        val random = java.util.Random(0)
        val noise = FloatImage(height, width, 3, FloatArray(height * width * 3) { random.nextFloat() })
        return Resize.box(noise, 3)
    }

    /** A pair of tools/golden.py's GEOMETRY_CASES, built from the sample pair with the core's own resampling. */
    fun geometryCase(case: Map<String, Any?>): Pair<FloatImage, FloatImage> {
        var mono = sampleMono
        var color = sampleColor
        val height = color.height
        val width = color.width
        if (case["mirrored"] == true) {
            mono = mono.flippedHorizontally()
            color = color.flippedHorizontally()
        }
        (case["shift_rows"] as Double?)?.let { color = rolled(color, it.toInt()) }
        (case["rotate"] as Double?)?.let { color = warp(color, rotation(width, height, it)) }
        if (case["upside_down"] == true) color = flippedVertically(color).flippedHorizontally()
        (case["keystone"] as Double?)?.let { color = keystone(color, it.toInt()) }
        if (case["unrelated"] == true) color = unrelated(height, width)
        (case["resize"] as Double?)?.let { color = resize(color, Math.rint(height * it).toInt(), Math.rint(width * it).toInt()) }
        (case["narrow"] as Double?)?.let { fraction ->
            val dy = (height * fraction).toInt()
            val dx = (width * fraction).toInt()
            val crop = FloatImage(height - 2 * dy, width - 2 * dx, 3)
            for (y in 0 until crop.height) for (x in 0 until crop.width) for (c in 0..2) crop[y, x, c] = color[y + dy, x + dx, c]
            val zoom = case.number("zoom")
            color = resize(crop, Math.rint(crop.height * zoom).toInt(), Math.rint(crop.width * zoom).toInt())
        }
        if (case["portrait"] == true) {
            mono = rotated90(mono)
            color = rotated90(color)
        }
        @Suppress("UNCHECKED_CAST")
        (case["rig"] as Map<String, Any?>?)?.let { rig ->
            mono = materialize(Transposed(mono))
            color = materialize(Transposed(color))
            val zoom = rig.number("zoom")
            val matrix = rotation(color.width, color.height, rig.number("roll"), zoom)
            matrix[5] += rig.number("dy")
            color = if (zoom > 1) warp(color, matrix)
                else resize(color, Math.rint(color.height * zoom).toInt(), Math.rint(color.width * zoom).toInt())
            if (rig["mirrored"] == true) {
                mono = flippedVertically(mono)
                color = flippedVertically(color)
            }
        }
        (case["stretch"] as List<*>?)?.let { size -> color = resize(color, (size[1] as Double).toInt(), (size[0] as Double).toInt()) }
        return Pair(mono, color)
    }
}
