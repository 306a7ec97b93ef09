package dev.dualcam.core

/**
 * BT.601 full-range YCbCr on [0, 1] floats, the colour space the network predicts in (dualcam.runtime.color):
 * Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B - Y) + 0.5, Cr = 0.713 (R - Y) + 0.5; channels Y, Cb, Cr.
 * Arithmetic is float32 in numpy's order, so the results agree with the runtime to the last bit or two.
 */
object Color {
    const val LUMA_R = 0.299f
    const val LUMA_G = 0.587f
    const val LUMA_B = 0.114f
    const val CB_SCALE = 0.564f
    const val CR_SCALE = 0.713f

    fun luma(r: Float, g: Float, b: Float): Float = r * LUMA_R + g * LUMA_G + b * LUMA_B

    /** (H, W, 3) RGB -> (H, W, 3) Y, Cb, Cr. */
    fun rgbToYcbcr(rgb: FloatImage): FloatImage {
        require(rgb.channels == 3) { "RGB needs 3 channels, not ${rgb.channels}" }
        val out = FloatImage(rgb.height, rgb.width, 3)
        val s = rgb.data
        for (i in 0 until rgb.height * rgb.width) {
            val r = s[3 * i]
            val g = s[3 * i + 1]
            val b = s[3 * i + 2]
            val y = luma(r, g, b)
            out.data[3 * i] = y
            out.data[3 * i + 1] = CB_SCALE * (b - y) + 0.5f
            out.data[3 * i + 2] = CR_SCALE * (r - y) + 0.5f
        }
        return out
    }

    /** Y, Cb, Cr -> R, G, B, unclipped: the exact inverse of the forward conversion, in the runtime's order. */
    private inline fun <T> rgbOf(y: Float, cb: Float, cr: Float, use: (Float, Float, Float) -> T): T {
        val b = y + (cb - 0.5f) / CB_SCALE
        val r = y + (cr - 0.5f) / CR_SCALE
        val g = (y - LUMA_R * r - LUMA_B * b) / LUMA_G
        return use(r, g, b)
    }

    /** (H, W, 3) Y, Cb, Cr -> (H, W, 3) RGB, clipped to [0, 1] unless `clip` is false. */
    fun ycbcrToRgb(ycbcr: FloatImage, clip: Boolean = true): FloatImage {
        require(ycbcr.channels == 3) { "YCbCr needs 3 channels, not ${ycbcr.channels}" }
        val out = FloatImage(ycbcr.height, ycbcr.width, 3)
        val s = ycbcr.data
        for (i in 0 until ycbcr.height * ycbcr.width) {
            rgbOf(s[3 * i], s[3 * i + 1], s[3 * i + 2]) { r, g, b ->
                out.data[3 * i] = if (clip) r.coerceIn(0f, 1f) else r
                out.data[3 * i + 1] = if (clip) g.coerceIn(0f, 1f) else g
                out.data[3 * i + 2] = if (clip) b.coerceIn(0f, 1f) else b
            }
        }
        return out
    }

    /** [0, 1] -> integer levels 0..peak, rounding half to even as numpy's round does. */
    fun quantize(value: Float, peak: Int): Int = Math.rint((value.coerceIn(0f, 1f) * peak).toDouble()).toInt()

    /** One pixel's Y, Cb, Cr -> an opaque 0xAARRGGBB pixel of 8-bit RGB, clipped to the RGB cube. */
    fun argb(y: Float, cb: Float, cr: Float): Int = rgbOf(y, cb, cr) { r, g, b ->
        (0xff shl 24) or (quantize(r, 255) shl 16) or (quantize(g, 255) shl 8) or quantize(b, 255)
    }
}
