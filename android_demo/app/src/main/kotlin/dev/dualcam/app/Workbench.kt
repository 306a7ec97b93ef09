package dev.dualcam.app

import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.net.Uri
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.util.Log
import dev.dualcam.core.Benchmark
import dev.dualcam.core.CameraSide
import dev.dualcam.core.Color
import dev.dualcam.core.Colorizer
import dev.dualcam.core.ExifOrientation
import dev.dualcam.core.Failure
import dev.dualcam.core.FloatImage
import dev.dualcam.core.Provider
import dev.dualcam.core.TileSession
import java.util.Locale
import java.util.concurrent.CancellationException
import java.util.concurrent.Executors

/**
 * What must outlive one MainActivity: the picked pair, the one worker thread and its job, the open session and the
 * last result. A configuration change (rotation, dark mode, multi-window, a fold) recreates the Activity; the old one
 * hands this object to the new one (onRetainNonConfigurationInstance), so a running job goes on, reports to the new
 * screen, and no second job can start beside it. Closed when the user leaves for good: the job stops at its next
 * tile and the session is closed.
 *
 * Fields the screen shows are touched on the main thread only; the session on the worker thread only.
 */
class Workbench(private val context: Context) {
    /** The picked images; null for the bundled sample's. */
    private var monoUri: Uri? = null
    private var colorUri: Uri? = null

    var status: String = ""
        private set
    var before: Bitmap? = null
        private set
    var after: Bitmap? = null
        private set
    var running = false
        private set

    private var screen: MainActivity? = null
    private val main = Handler(Looper.getMainLooper())
    private val worker = Executors.newSingleThreadExecutor()
    @Volatile private var closed = false

    /** Kept while the provider and the model stay the same: NNAPI compiles the model again for every new session. */
    private var session: TileSession? = null
    private var sessionKey: String? = null

    fun attach(activity: MainActivity) {
        screen = activity
        activity.show(this)
    }

    fun detach(activity: MainActivity) {
        if (screen === activity) screen = null
    }

    /** The picks, as strings in the Activity's saved state: they come back if Android ends the process meanwhile. */
    fun save(state: Bundle) {
        state.putString(STATE_MONO, monoUri?.toString())
        state.putString(STATE_COLOR, colorUri?.toString())
    }

    fun restore(state: Bundle?) {
        monoUri = state?.getString(STATE_MONO)?.let(Uri::parse)
        colorUri = state?.getString(STATE_COLOR)?.let(Uri::parse)
    }

    fun pickSample() {
        monoUri = null
        colorUri = null
        say("the bundled sample pair (Middlebury Motorcycle); its largest disparity is about 58 px")
    }

    fun pick(mono: Boolean, uri: Uri) {
        if (mono) monoUri = uri else colorUri = uri
        say("picked ${if (mono) "the mono" else "the colour"} image")
    }

    /** Starts colouring the pair unless a job runs already (the button is off then, but taps can race). */
    fun colorize(provider: Provider, side: CameraSide, maxDisparity: Double?) {
        if (running || closed) return
        running = true
        say("colouring on ${provider.title}…")
        val mono = monoUri
        val color = colorUri
        worker.execute {
            val message = try {
                colorizeOnWorker(provider, side, maxDisparity, mono, color)
            } catch (error: Throwable) {
                // Throwable: running out of memory is an Error, not an Exception, and must end in words, not a crash.
                closeSession()  // a failed session may be unusable, and its memory is better given back
                "failed: ${Failure.describe(error)}"
            }
            onMain {
                running = false
                say(message)
            }
        }
    }

    private fun colorizeOnWorker(provider: Provider, side: CameraSide, maxDisparity: Double?, mono: Uri?, color: Uri?): String {
        val monoImage = Color.monoFromRgb(decode(mono, SAMPLE_MONO, "the mono image"))
        val colorImage = decode(color, SAMPLE_COLOR, "the colour image")
        Colorizer.checkSize(monoImage, "the mono image")
        Colorizer.checkSize(colorImage, "the colour image")
        val models = Models(context)
        val model = models.manifest.model(provider.role)
        val key = "${provider.label} ${models.origin} ${model.sha256}"
        if (key != sessionKey) {
            closeSession()
            session = models.session(provider)
            sessionKey = key
        }
        val session = session!!
        val result = Colorizer(session).colorize(monoImage, colorImage, side, maxDisparity) { done, total ->
            if (closed) throw CancellationException("the app was closed")
            onMain { say("tile $done/$total on ${provider.title}") }
        }
        val beforeBitmap = preview(monoImage)
        val afterBitmap = preview(result.rgb)
        onMain {
            before = beforeBitmap
            after = afterBitmap
        }
        return String.format(Locale.ROOT, "%dx%d, chroma scale %.3f, %d tiles; %s (%s) on %s: model %.2f s, end to end %.2f s, peak %.0f MB",
            monoImage.width, monoImage.height, result.scale, result.grid.size, model.file, models.origin,
            session.backend.description, result.modelSeconds, result.totalSeconds, Benchmark.peakResidentMb() ?: Double.NaN)
    }

    /** Benchmark mode: one provider, one tile of the sample pair; the result goes to logcat, then the Activity ends. */
    fun benchmark(label: String, repeats: Int) {
        if (running || closed) return
        running = true
        worker.execute {
            val line = try {
                val provider = Provider.named(label)
                val models = Models(context)
                val mono = Color.monoFromRgb(decode(null, SAMPLE_MONO, "the sample mono image"))
                val ref = Color.rgbToYcbcr(decode(null, SAMPLE_COLOR, "the sample colour image"))
                Benchmark.run(provider.label, provider.role, models.manifest, mono, ref, repeats) {
                    models.open(provider, memoryArena = true)
                }.line()
            } catch (error: Throwable) {
                Benchmark.errorLine(label, error)
            }
            Benchmark.logEntries(line).forEach { Log.i(LOG_TAG, it) }
            onMain {
                running = false
                screen?.finish()
            }
        }
    }

    /** The user left for good: stop the job at its next tile, then close the session on the thread that uses it. */
    fun close() {
        if (closed) return
        closed = true
        screen = null
        before = null
        after = null
        main.removeCallbacksAndMessages(null)
        worker.execute { closeSession() }
        worker.shutdown()
    }

    private fun closeSession() {
        session?.close()
        session = null
        sessionKey = null
    }

    private fun say(text: String) {
        status = text
        screen?.show(this)
    }

    private fun onMain(update: () -> Unit) {
        main.post { if (!closed) update() }
    }

    /**
     * A picked image (or the bundled sample) as RGB on [0, 1], turned upright by its EXIF orientation: phones store
     * portrait shots as landscape pixels plus that tag, which BitmapFactory does not apply.
     */
    private fun decode(picked: Uri?, sample: String, name: String): FloatImage {
        val bytes = try {
            (if (picked == null) context.assets.open(sample) else context.contentResolver.openInputStream(picked))
                ?.use { it.readBytes() } ?: throw IllegalStateException("$name can no longer be read; pick it again")
        } catch (denied: SecurityException) {
            throw IllegalStateException("$name can no longer be read (Android withdrew the permission); pick it again")
        }
        val options = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inScaled = false
        }
        val bitmap = BitmapFactory.decodeByteArray(bytes, 0, bytes.size, options)
            ?: throw IllegalArgumentException("$name is not an image Android can decode")
        val width = bitmap.width
        val height = bitmap.height
        val pixels = IntArray(width * height)
        bitmap.getPixels(pixels, 0, width, 0, 0, width, height)
        bitmap.recycle()
        val orientation = ExifOrientation.ofJpeg(bytes)
        val upright = orientation.upright(pixels, width, height)
        return if (orientation.swapsSides) Color.fromArgb(upright, height, width) else Color.fromArgb(upright, width, height)
    }

    /**
     * What the screen shows of a grey or RGB image: block averages, at most PREVIEW_SIDE px on the long side. Android
     * refuses to draw a bitmap over 100 MB ("Canvas: trying to draw too large bitmap"), and full-size bitmaps kept
     * across configuration changes would hold hundreds of MB.
     */
    private fun preview(image: FloatImage): Bitmap {
        val step = (maxOf(image.width, image.height) + PREVIEW_SIDE - 1) / PREVIEW_SIDE
        val width = image.width / step
        val height = image.height / step
        val pixels = IntArray(width * height) { i ->
            val top = i / width * step
            val left = i % width * step
            var argb = 0xff shl 24
            for (c in 0 until 3) {
                var sum = 0f
                for (y in top until top + step) for (x in left until left + step) sum += image[y, x, minOf(c, image.channels - 1)]
                argb = argb or (Color.quantize(sum / (step * step), 255) shl (16 - 8 * c))
            }
            argb
        }
        return Bitmap.createBitmap(pixels, width, height, Bitmap.Config.ARGB_8888)
    }

    companion object {
        const val LOG_TAG = "DualcamBench"
        const val SAMPLE_MONO = "samples/motorcycle_mono.png"
        const val SAMPLE_COLOR = "samples/motorcycle_color.png"
        private const val PREVIEW_SIDE = 2048
        private const val STATE_MONO = "mono"
        private const val STATE_COLOR = "color"
    }
}
