package dev.dualcam.app

import android.app.Activity
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.ImageView
import android.widget.RadioGroup
import android.widget.TextView
import dev.dualcam.core.CameraSide
import dev.dualcam.core.GeometryOptions
import dev.dualcam.core.Provider

/**
 * Thin glue: pick the bundled sample pair or two images, choose the execution provider, and show the mono image
 * beside the coloured result with what the geometry measured (camera side, portrait, largest disparity, chroma
 * scale), the model file and its source, the provider that ran, geometry, model and end-to-end time and peak memory.
 * The work and everything that must survive a configuration change live in [Workbench].
 * Started with the `benchmark` extra (a provider name), it times one tile for tools/device_bench.py instead, logs
 * one line and finishes.
 */
class MainActivity : Activity() {
    private lateinit var workbench: Workbench
    private var hasLayout = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val retained = lastNonConfigurationInstance as? Workbench
        workbench = retained ?: Workbench(applicationContext).apply { restore(savedInstanceState) }
        val benchmark = intent.getStringExtra(EXTRA_BENCHMARK)
        if (benchmark != null) {
            workbench.attach(this)
            if (retained == null) workbench.benchmark(benchmark, intent.getIntExtra(EXTRA_REPEATS, 10))
            return
        }
        setContentView(R.layout.activity_main)
        hasLayout = true
        keepClearOfSystemBars(view(R.id.root))
        view<Button>(R.id.sample).setOnClickListener {
            workbench.pickSample()
            view<EditText>(R.id.max_disparity).setText("")  // measured, as for any pair
        }
        view<Button>(R.id.pick_mono).setOnClickListener { pick(PICK_MONO) }
        view<Button>(R.id.pick_color).setOnClickListener { pick(PICK_COLOR) }
        view<Button>(R.id.run).setOnClickListener { colorize() }
        workbench.attach(this)
    }

    override fun onRetainNonConfigurationInstance(): Any = workbench

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        workbench.save(outState)
    }

    override fun onDestroy() {
        workbench.detach(this)
        if (!isChangingConfigurations) workbench.close()
        super.onDestroy()
    }

    /** The workbench's state on screen: called on every change and when a recreated Activity attaches. */
    fun show(state: Workbench) {
        if (!hasLayout) return
        view<TextView>(R.id.status).text = state.status
        view<ImageView>(R.id.before).setImageBitmap(state.before)
        view<ImageView>(R.id.after).setImageBitmap(state.after)
        view<Button>(R.id.run).isEnabled = !state.running
    }

    /**
     * targetSdk 35 draws the app edge to edge on Android 15: the content is padded clear of the status and navigation
     * bars, the display cutout and (with adjustResize) the keyboard. Earlier Androids inset the window themselves
     * and pass zeros here.
     */
    private fun keepClearOfSystemBars(root: View) {
        root.setOnApplyWindowInsetsListener { view, insets ->
            view.setPadding(insets.systemWindowInsetLeft, insets.systemWindowInsetTop, insets.systemWindowInsetRight,
                insets.systemWindowInsetBottom)
            insets.consumeSystemWindowInsets()
        }
    }

    private fun pick(request: Int) {
        startActivityForResult(Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("image/*"), request)
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        val uri: Uri = data?.data ?: return
        if (resultCode != RESULT_OK) return
        workbench.pick(requestCode == PICK_MONO, uri)
    }

    private fun colorize() {
        val provider = when (view<RadioGroup>(R.id.provider).checkedRadioButtonId) {
            R.id.nnapi -> Provider.NNAPI
            R.id.cpu -> Provider.CPU
            else -> Provider.XNNPACK
        }
        // The geometry is measured; a ticked box or a typed disparity overrides the side or the largest disparity
        // (candidates then start at 0).
        val side = if (view<CheckBox>(R.id.color_on_right).isChecked) CameraSide.RIGHT else null
        val disparity = view<EditText>(R.id.max_disparity).text.toString().toDoubleOrNull()
        workbench.colorize(provider, GeometryOptions(side, disparity?.let { Pair(0.0, it) }))
    }

    /** findViewById typed; written so it compiles against API 23's android.jar and today's generic one alike. */
    @Suppress("UNCHECKED_CAST")
    private fun <V : View> view(id: Int): V {
        val found: View = findViewById(id)
        return found as V
    }

    companion object {
        const val EXTRA_BENCHMARK = "benchmark"
        const val EXTRA_REPEATS = "repeats"
        const val PICK_MONO = 1
        const val PICK_COLOR = 2
    }
}
