// The app: thin glue around `core`, with onnxruntime-android (NNAPI, XNNPACK, CPU) as the inference backend.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

// The .ort files are converted with onnxruntime 1.32 (runtime/models/manifest.json, "tools"); the Android
// runtime that reads them should be the same release.
val onnxruntimeVersion = "1.32.0"
val dualcamAssets = layout.buildDirectory.dir("generated/dualcam-assets")

android {
    namespace = "dev.dualcam.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.dualcam.app"
        minSdk = 27 // NNAPI
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    sourceSets["main"].apply {
        java.srcDirs("src/main/kotlin", "src/ort/kotlin")
        assets.srcDir(dualcamAssets)
    }

    androidResources {
        noCompress += "ort" // read whole into memory; no point inflating them
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

// Java 17 bytecode from whichever JDK runs Gradle (Android Studio's bundled JDK 21, or any 17+): no toolchain to
// look for, so a clean sync needs neither an installed JDK 17 nor a toolchain download.
kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.microsoft.onnxruntime:onnxruntime-android:$onnxruntimeVersion")
}

// The models and the sample pair come from the repository (runtime/), never from a second copy.
val copyDualcamAssets by tasks.registering(Copy::class) {
    from(rootProject.file("../runtime/models")) {
        include("manifest.json", "*.ort")
        into("models")
    }
    from(rootProject.file("../runtime/samples")) {
        include("*.png")
        into("samples")
    }
    into(dualcamAssets)
}

tasks.named("preBuild") {
    dependsOn(copyDualcamAssets)
}
