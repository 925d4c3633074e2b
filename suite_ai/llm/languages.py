"""Languages a text can be translated into (ISO 639-1 → name in that language)."""

LANGUAGES: dict[str, str] = {
    "fr": "français", "en": "English", "de": "Deutsch", "es": "español", "it": "italiano",
    "nl": "Nederlands", "pt": "português", "pl": "polski", "ro": "română", "sv": "svenska",
    "da": "dansk", "fi": "suomi", "el": "ελληνικά", "cs": "čeština", "hu": "magyar",
    "bg": "български", "hr": "hrvatski", "sk": "slovenčina", "sl": "slovenščina", "et": "eesti",
    "lv": "latviešu", "lt": "lietuvių", "ga": "Gaeilge", "mt": "Malti", "ar": "العربية",
    "uk": "українська", "ru": "русский", "zh": "中文", "ja": "日本語", "br": "brezhoneg",
    "oc": "occitan", "co": "corsu", "eu": "euskara", "ca": "català",
}  # fmt: skip


def language_name(code: str) -> str:
    return f"{LANGUAGES.get(code, code)} ({code})"
