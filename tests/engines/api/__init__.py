"""Tests of the API engines (SerpApi, Cloud Vision, PicImageSearch), fallback and fusion."""
