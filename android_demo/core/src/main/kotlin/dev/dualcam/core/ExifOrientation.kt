package dev.dualcam.core

/**
 * A JPEG's EXIF orientation (TIFF tag 0x0112): how its stored pixels must be turned to show the picture upright.
 * Phones store a portrait shot as landscape pixels plus this tag, and Android's BitmapFactory leaves the turning to
 * the app. android.media.ExifInterface reads a picked image's stream only from API 24 on, so the tag is read here,
 * from the bytes, where the JVM tests can reach it.
 */
enum class ExifOrientation(val tagValue: Int) {
    NORMAL(1), FLIP_HORIZONTAL(2), ROTATE_180(3), FLIP_VERTICAL(4), TRANSPOSE(5), ROTATE_90(6), TRANSVERSE(7), ROTATE_270(8);

    /** The upright picture is the stored one turned a quarter: its width is the stored height. */
    val swapsSides: Boolean get() = tagValue >= TRANSPOSE.tagValue

    /** Where upright pixel (y, x) of a stored `width` x `height` image is stored: its row-major index there. */
    fun storedIndex(y: Int, x: Int, width: Int, height: Int): Int = when (this) {
        NORMAL -> y * width + x
        FLIP_HORIZONTAL -> y * width + (width - 1 - x)
        ROTATE_180 -> (height - 1 - y) * width + (width - 1 - x)
        FLIP_VERTICAL -> (height - 1 - y) * width + x
        TRANSPOSE -> x * width + y
        ROTATE_90 -> (height - 1 - x) * width + y
        TRANSVERSE -> (height - 1 - x) * width + (width - 1 - y)
        ROTATE_270 -> x * width + (width - 1 - y)
    }

    /** A stored image seen upright: a view that reads the stored samples where they are, so nothing is copied. */
    fun upright(image: Raster): Raster = if (this == NORMAL) image else object : Raster(
        if (swapsSides) image.width else image.height, if (swapsSides) image.height else image.width, image.channels) {
        override fun get(y: Int, x: Int, c: Int): Float {
            val at = storedIndex(y, x, image.width, image.height)
            return image[at / image.width, at % image.width, c]
        }
    }

    companion object {
        private const val ORIENTATION_TAG = 0x0112

        /** The orientation a JPEG's EXIF block gives; NORMAL for other formats, no tag, or damaged metadata. */
        fun ofJpeg(bytes: ByteArray): ExifOrientation {
            if (bytes.size < 4 || u8(bytes, 0) != 0xFF || u8(bytes, 1) != 0xD8) return NORMAL
            var at = 2
            while (at + 4 <= bytes.size && u8(bytes, at) == 0xFF) {
                val marker = u8(bytes, at + 1)
                if (marker == 0xFF) {  // a fill byte before the marker
                    at += 1
                    continue
                }
                if (marker == 0xDA || marker == 0xD9) return NORMAL  // the image data: no metadata after it
                val length = (u8(bytes, at + 2) shl 8) or u8(bytes, at + 3)
                val end = minOf(at + 2 + length, bytes.size)
                if (marker == 0xE1 && end - at >= 10 && String(bytes, at + 4, 6, Charsets.ISO_8859_1) == "Exif\u0000\u0000") {
                    return ofTiff(bytes, at + 10, end)
                }
                at += 2 + length
            }
            return NORMAL
        }

        /** The tag in IFD0 of the TIFF block in bytes [start, end); TIFF offsets count from `start`. */
        private fun ofTiff(bytes: ByteArray, start: Int, end: Int): ExifOrientation {
            if (end - start < 8) return NORMAL
            val littleEndian = when (String(bytes, start, 2, Charsets.ISO_8859_1)) {
                "II" -> true
                "MM" -> false
                else -> return NORMAL
            }
            fun unsigned(offset: Long, size: Int): Long? {
                if (offset < 0 || start + offset + size > end) return null
                var value = 0L
                for (i in 0 until size) {
                    val byte = u8(bytes, (start + offset).toInt() + if (littleEndian) size - 1 - i else i)
                    value = (value shl 8) or byte.toLong()
                }
                return value
            }
            if (unsigned(2, 2) != 42L) return NORMAL
            val ifd = unsigned(4, 4) ?: return NORMAL
            val entries = unsigned(ifd, 2) ?: return NORMAL
            for (i in 0 until entries) {
                val entry = ifd + 2 + 12 * i
                if (unsigned(entry, 2) == ORIENTATION_TAG.toLong()) {
                    // A SHORT: its value sits in the first two bytes of the entry's 4-byte value field.
                    val value = unsigned(entry + 8, 2) ?: return NORMAL
                    return values().firstOrNull { it.tagValue.toLong() == value } ?: NORMAL
                }
            }
            return NORMAL
        }

        private fun u8(bytes: ByteArray, index: Int): Int = bytes[index].toInt() and 0xFF
    }
}
