package dev.dualcam.core

import kotlin.math.floor

/**
 * An image the pipeline reads sample by sample or row by row, on [0, 1]: the decoded 8-bit camera images kept as
 * bytes, float planes, or views (turned upright, transposed, warped onto the mono grid) that compute their samples
 * when read. A 12-megapixel pair is 48 MB as bytes and four times that as floats, so full-resolution images are only
 * ever read, never copied whole.
 */
abstract class Raster(val height: Int, val width: Int, val channels: Int) {
    abstract operator fun get(y: Int, x: Int, c: Int = 0): Float

    /** Row y, channels interleaved, into out[0 until width * channels]. */
    open fun readRow(y: Int, out: FloatArray) {
        var i = 0
        for (x in 0 until width) for (c in 0 until channels) out[i++] = get(y, x, c)
    }
}

/** 8-bit samples as decoded, row-major with interleaved channels; read as value / 255, as the runtime reads them. */
class ByteImage(height: Int, width: Int, channels: Int, val data: ByteArray = ByteArray(height * width * channels)) :
    Raster(height, width, channels) {
    init {
        require(data.size == height * width * channels) { "${data.size} bytes for a ${height}x${width}x$channels image" }
    }

    override fun get(y: Int, x: Int, c: Int): Float = (data[(y * width + x) * channels + c].toInt() and 0xff) / 255f

    override fun readRow(y: Int, out: FloatArray) {
        val start = y * width * channels
        for (i in 0 until width * channels) out[i] = (data[start + i].toInt() and 0xff) / 255f
    }

    /** Stores row y of opaque 0xAARRGGBB pixels: their grey level (R) in a one-channel image, else R, G, B. */
    fun setArgbRow(y: Int, pixels: IntArray, offset: Int = 0) {
        var at = y * width * channels
        for (x in 0 until width) {
            val argb = pixels[offset + x]
            if (channels == 1) {
                data[at++] = (argb shr 16).toByte()
            } else {
                data[at++] = (argb shr 16).toByte()
                data[at++] = (argb shr 8).toByte()
                data[at++] = argb.toByte()
            }
        }
    }

    /**
     * This image as the mono camera's luma: one channel of its grey levels where R = G = B everywhere (a grey image
     * decoded as colour, as Android decodes grey PNGs), as the runtime reads such a file; else the luma, computed when read.
     */
    fun asMono(): Raster {
        if (channels == 1) return this
        for (i in 0 until height * width) {
            if (data[3 * i] != data[3 * i + 1] || data[3 * i + 1] != data[3 * i + 2]) return Luma(this)
        }
        return ByteImage(height, width, 1, ByteArray(height * width) { data[3 * it] })
    }
}

/** 16-bit samples (a 16-bit PNG), read as value / 65535. */
class ShortImage(height: Int, width: Int, channels: Int, val data: ShortArray = ShortArray(height * width * channels)) :
    Raster(height, width, channels) {
    override fun get(y: Int, x: Int, c: Int): Float = (data[(y * width + x) * channels + c].toInt() and 0xffff) / 65535f

    /** As [ByteImage.asMono]. */
    fun asMono(): Raster {
        if (channels == 1) return this
        for (i in 0 until height * width) {
            if (data[3 * i] != data[3 * i + 1] || data[3 * i + 1] != data[3 * i + 2]) return Luma(this)
        }
        return ShortImage(height, width, 1, ShortArray(height * width) { data[3 * it] })
    }
}

/** The luma of an RGB image, computed when read. */
class Luma(private val rgb: Raster) : Raster(rgb.height, rgb.width, 1) {
    override fun get(y: Int, x: Int, c: Int): Float = Color.luma(rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2])
}

/** Rows become columns: a portrait pair (one camera above the other) read in the network's rows. */
class Transposed(private val source: Raster) : Raster(source.width, source.height, source.channels) {
    override fun get(y: Int, x: Int, c: Int): Float = source[x, y, c]
}

/**
 * `source` warped by the 2x3 affine `forward` (source px -> these px) onto a height x width grid as cv2.warpAffine
 * does it with INTER_LINEAR and BORDER_REPLICATE: the matrix inverted as OpenCV inverts it, each pixel's source
 * position in float, bilinear weights lerped as OpenCV 5's warp kernels do, edges replicated.
 */
class AffineWarp(private val source: Raster, forward: DoubleArray, height: Int, width: Int) :
    Raster(height, width, source.channels) {
    private val inverse: DoubleArray = invert(forward)
    private val pixel = FloatArray(source.channels)

    override fun get(y: Int, x: Int, c: Int): Float {
        sample(y, x, pixel, 0)
        return pixel[c]
    }

    override fun readRow(y: Int, out: FloatArray) {
        for (x in 0 until width) sample(y, x, out, x * channels)
    }

    private fun sample(y: Int, x: Int, out: FloatArray, at: Int) {
        var sx = (x * inverse[0] + y * inverse[1] + inverse[2]).toFloat()
        var sy = (x * inverse[3] + y * inverse[4] + inverse[5]).toFloat()
        val ix = floor(sx).toInt()
        val iy = floor(sy).toInt()
        sx -= ix
        sy -= iy
        val x0 = ix.coerceIn(0, source.width - 1)
        val x1 = (ix + 1).coerceIn(0, source.width - 1)
        val y0 = iy.coerceIn(0, source.height - 1)
        val y1 = (iy + 1).coerceIn(0, source.height - 1)
        for (c in 0 until channels) {
            val p00 = source[y0, x0, c]
            val p01 = source[y0, x1, c]
            val p10 = source[y1, x0, c]
            val p11 = source[y1, x1, c]
            val v0 = p00 + sx * (p01 - p00)
            val v1 = p10 + sx * (p11 - p10)
            out[at + c] = v0 + sy * (v1 - v0)
        }
    }

    companion object {
        /** cv2.warpAffine's own inversion of the matrix (imgwarp.cpp), so the source positions are OpenCV's. */
        fun invert(m: DoubleArray): DoubleArray {
            var d = m[0] * m[4] - m[1] * m[3]
            d = if (d != 0.0) 1.0 / d else 0.0
            val a11 = m[4] * d
            val a22 = m[0] * d
            val a12 = -m[1] * d
            val a21 = -m[3] * d
            return doubleArrayOf(a11, a12, -a11 * m[2] - a12 * m[5], a21, a22, -a21 * m[2] - a22 * m[5])
        }
    }
}
