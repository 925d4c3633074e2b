"""Languages a text can be translated into (ISO 639 code → name in that language): the EU's and
France's, then every language Docs' ai-translate offers (Django's list, by primary subtag)."""

LANGUAGES: dict[str, str] = {
    "fr": "français", "en": "English", "de": "Deutsch", "es": "español", "it": "italiano",
    "nl": "Nederlands", "pt": "português", "pl": "polski", "ro": "română", "sv": "svenska",
    "da": "dansk", "fi": "suomi", "el": "ελληνικά", "cs": "čeština", "hu": "magyar",
    "bg": "български", "hr": "hrvatski", "sk": "slovenčina", "sl": "slovenščina", "et": "eesti",
    "lv": "latviešu", "lt": "lietuvių", "ga": "Gaeilge", "mt": "Malti", "ar": "العربية",
    "uk": "українська", "ru": "русский", "zh": "中文", "ja": "日本語", "br": "brezhoneg",
    "oc": "occitan", "co": "corsu", "eu": "euskara", "ca": "català",
    # The other languages Docs' ai-translate accepts (Django's LANGUAGES, by their primary subtag).
    "af": "Afrikaans", "ast": "asturianu", "az": "Azərbaycanca", "be": "беларуская", "bn": "বাংলা",
    "bs": "bosanski", "ckb": "کوردی", "cy": "Cymraeg", "dsb": "dolnoserbski", "eo": "Esperanto", "fa": "فارسی",
    "fy": "frysk", "gd": "Gàidhlig", "gl": "galego", "he": "עברית", "hi": "हिंदी", "hsb": "hornjoserbsce",
    "hy": "հայերեն", "ia": "Interlingua", "id": "Bahasa Indonesia", "ig": "Asụsụ Ìgbò", "io": "ido",
    "is": "Íslenska", "ka": "ქართული", "kab": "taqbaylit", "kk": "Қазақ", "km": "Khmer", "kn": "Kannada",
    "ko": "한국어", "ky": "Кыргызча", "lb": "Lëtzebuergesch", "mk": "Македонски", "ml": "മലയാളം",
    "mn": "Mongolian", "mr": "मराठी", "ms": "Bahasa Melayu", "my": "မြန်မာဘာသာ", "nb": "norsk (bokmål)",
    "ne": "नेपाली", "nn": "norsk (nynorsk)", "os": "Ирон", "pa": "Punjabi", "sq": "shqip", "sr": "српски",
    "sw": "Kiswahili", "ta": "தமிழ்", "te": "తెలుగు", "tg": "тоҷикӣ", "th": "ภาษาไทย", "tk": "Türkmençe",
    "tr": "Türkçe", "tt": "Татарча", "udm": "Удмурт", "ug": "ئۇيغۇرچە", "ur": "اردو", "uz": "oʻzbek tili",
    "vi": "Tiếng Việt",
}  # fmt: skip


def primary_language(code: str) -> str | None:
    """The catalogue's code for a language tag such as Docs' ``es-co`` or ``zh-hans``."""
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def language_name(code: str) -> str:
    return f"{LANGUAGES.get(code, code)} ({code})"
