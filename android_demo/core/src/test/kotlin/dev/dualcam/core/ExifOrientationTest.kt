package dev.dualcam.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import javax.imageio.ImageIO

/** The EXIF orientation a picked photo carries: read from JPEG bytes, and applied as Pillow's exif_transpose does. */
class ExifOrientationTest {
    /** SOI, a JFIF APP0, then an APP1 Exif block, little-endian, whose IFD0 holds `entries` (tag to SHORT value). */
    private fun jpeg(vararg entries: Pair<Int, Int>, ifdOffset: Int = 8): ByteArray {
        val tiff = mutableListOf<Int>()
        fun u16(v: Int) { tiff.add(v and 0xFF); tiff.add(v shr 8 and 0xFF) }
        fun u32(v: Int) { u16(v and 0xFFFF); u16(v ushr 16) }
        tiff.addAll(listOf('I'.toInt(), 'I'.toInt())); u16(42); u32(ifdOffset)
        u16(entries.size)
        for ((tag, value) in entries) { u16(tag); u16(3); u32(1); u16(value); u16(0) }
        u32(0)
        val app1 = "Exif\u0000\u0000".map { it.toInt() } + tiff
        val jfif = listOf(0xFF, 0xE0, 0, 16) + "JFIF\u0000".map { it.toInt() } + listOf(1, 1, 0, 0, 1, 0, 1, 0, 0)
        val bytes = listOf(0xFF, 0xD8) + jfif + listOf(0xFF, 0xE1, (app1.size + 2) shr 8, (app1.size + 2) and 0xFF) + app1 +
            listOf(0xFF, 0xDA, 0, 2, 0xFF, 0xD9)
        return ByteArray(bytes.size) { bytes[it].toByte() }
    }

    @Test
    fun theTagIsReadInEitherByteOrderAfterOtherEntries() {
        assertEquals(ExifOrientation.ROTATE_90, ExifOrientation.ofJpeg(jpeg(0x0112 to 6)))
        assertEquals(ExifOrientation.ROTATE_270, ExifOrientation.ofJpeg(jpeg(0x0110 to 0, 0x0112 to 8)))
        // Written by Pillow: big-endian ("MM"), the camera make before the orientation.
        val pillow = javaClass.getResourceAsStream("/exif_rotate_90.jpg").use { it.readBytes() }
        assertEquals(ExifOrientation.ROTATE_90, ExifOrientation.ofJpeg(pillow))
    }

    @Test
    fun anythingElseIsUpright() {
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(jpeg()))
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(jpeg(0x0112 to 9)))
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(jpeg(0x0112 to 6, ifdOffset = 60000)))  // IFD past the block
        val cut = jpeg(0x0112 to 6)
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(cut.copyOf(cut.size - 20)))  // the entry cut off
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(byteArrayOf(0x89.toByte(), 'P'.toByte(), 'N'.toByte(), 'G'.toByte())))
        assertEquals(ExifOrientation.NORMAL, ExifOrientation.ofJpeg(ByteArray(0)))
    }

    @Test
    fun pixelsAreTurnedAsPillowsExifTransposeTurnsThem() {
        // A 3 x 2 image holding its own indices, and what PIL.ImageOps.exif_transpose makes of it for each tag value.
        val stored = FloatImage(2, 3, 1, floatArrayOf(0f, 1f, 2f, 3f, 4f, 5f))
        val expected = mapOf(
            1 to intArrayOf(0, 1, 2, 3, 4, 5), 2 to intArrayOf(2, 1, 0, 5, 4, 3), 3 to intArrayOf(5, 4, 3, 2, 1, 0),
            4 to intArrayOf(3, 4, 5, 0, 1, 2), 5 to intArrayOf(0, 3, 1, 4, 2, 5), 6 to intArrayOf(3, 0, 4, 1, 5, 2),
            7 to intArrayOf(5, 2, 4, 1, 3, 0), 8 to intArrayOf(2, 5, 1, 4, 0, 3))
        for (orientation in ExifOrientation.values()) {
            val upright = orientation.upright(stored)
            val read = IntArray(6) { upright[it / upright.width, it % upright.width].toInt() }
            assertArrayEquals(orientation.name, expected.getValue(orientation.tagValue), read)
            assertEquals(orientation.name, orientation.tagValue >= 5, orientation.swapsSides)
        }
    }

    @Test
    fun aDecodedPhotoComesOutUpright() {
        // Stored 16 x 8, red left half, blue right half; turned a quarter clockwise the red half is on top.
        val image = javaClass.getResourceAsStream("/exif_rotate_90.jpg").use { ImageIO.read(it) }
        val stored = ByteImage(image.height, image.width, 3)
        for (y in 0 until image.height) stored.setArgbRow(y, image.getRGB(0, y, image.width, 1, null, 0, image.width))
        val upright = ExifOrientation.ROTATE_90.upright(stored)
        assertEquals(listOf(16, 8), listOf(upright.height, upright.width))
        fun red(x: Int, y: Int) = upright[y, x, 0] * 255
        fun blue(x: Int, y: Int) = upright[y, x, 2] * 255
        assertTrue(red(4, 2) > 150 && blue(4, 2) < 100)
        assertTrue(blue(4, 13) > 150 && red(4, 13) < 100)
    }
}
