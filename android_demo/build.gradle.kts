// Versions pinned here, in one place: Android Gradle Plugin and Kotlin. onnxruntime-android is pinned in app/.
plugins {
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.0.21" apply false
    id("org.jetbrains.kotlin.jvm") version "2.0.21" apply false
}
