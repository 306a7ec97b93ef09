// The Android Studio project: `core` (pure Kotlin, tested on the JVM) and `app` (thin Android glue).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "dualcam-android"
include(":core", ":app")
