/**
 * What a person reads: the extension's own labels, and one message per error code of the API (the
 * README's "Error codes" table; tests/messages.test.ts checks that every code there has both
 * languages). Placeholders such as {seconds} come from the error's body.
 */
import type { Locale } from "./api";
import { ApiError } from "./api";

type Messages = Record<string, { fr: string; en: string }>;

export const UI: Messages = {
  assistant: { fr: "Assistant", en: "Assistant" },
  documentAssistant: { fr: "Assistant (document)", en: "Assistant (document)" },
  running: { fr: "L'assistant écrit…", en: "The assistant is writing…" },
  queued: { fr: "En attente…", en: "Waiting…" },
  retrying: { fr: "Nouvel essai dans {seconds} s…", en: "Trying again in {seconds} s…" },
  done: { fr: "Proposition prête", en: "Suggestion ready" },
  accept: { fr: "Accepter", en: "Accept" },
  reject: { fr: "Rejeter", en: "Reject" },
  stop: { fr: "Arrêter", en: "Stop" },
  close: { fr: "Fermer", en: "Close" },
  run: { fr: "Lancer", en: "Run" },
  cancelled: { fr: "Action arrêtée.", en: "Action stopped." },
  language: { fr: "Langue cible", en: "Target language" },
  instruction: { fr: "Votre instruction", en: "Your instruction" },
  instructionPlaceholder: { fr: "Ex. : mettre sous forme de liste", en: "E.g. turn it into a list" },
  noSelection: { fr: "Sélectionnez d'abord du texte.", en: "Select some text first." },
  noteReady: { fr: "La note est créée :", en: "The note is created:" },
  openNote: { fr: "Ouvrir la note", en: "Open the note" },
  progress: { fr: "{done} sur {total}", en: "{done} of {total}" },
  documentSuffix: { fr: "le document", en: "the document" },
  loadingCatalogue: { fr: "Chargement des actions…", en: "Loading the actions…" },
};

export const ERRORS: Messages = {
  not_authenticated: { fr: "Vous n'êtes pas connecté. Reconnectez-vous puis réessayez.", en: "You are not signed in. Sign in again, then retry." },
  authentication_failed: { fr: "Votre session n'est plus valide. Reconnectez-vous.", en: "Your session is no longer valid. Sign in again." },
  invalid_token: { fr: "Votre session a expiré. Reconnectez-vous.", en: "Your session has expired. Sign in again." },
  token_audience_not_allowed: { fr: "Cette application n'est pas autorisée à utiliser l'assistant.", en: "This application is not allowed to use the assistant." },
  auth_provider_unavailable: { fr: "Le service de connexion ne répond pas. Réessayez dans un instant.", en: "The sign-in service is not answering. Try again in a moment." },
  account_disabled: { fr: "Votre compte est désactivé pour l'assistant.", en: "Your account is disabled for the assistant." },
  invalid_on_behalf_of: { fr: "La demande ne désigne pas correctement l'utilisateur.", en: "The request does not name the user correctly." },
  quota_exceeded: { fr: "Le quota du jour de l'assistant est atteint. Il sera rétabli à {resets_at}.", en: "Today's assistant quota is used up. It resets at {resets_at}." },
  missing_on_behalf_of: { fr: "La demande ne dit pas pour quel utilisateur agir.", en: "The request does not say which user it acts for." },
  permission_denied: { fr: "Vous n'avez pas accès à cette action.", en: "You do not have access to this action." },
  not_found: { fr: "Cette action ou ce travail n'existe pas (ou plus).", en: "This action or job does not exist (any more)." },
  method_not_allowed: { fr: "Requête refusée par le service (méthode).", en: "The service refused the request (method)." },
  not_acceptable: { fr: "Requête refusée par le service (format de réponse).", en: "The service refused the request (response format)." },
  unsupported_media_type: { fr: "Requête refusée par le service (format envoyé).", en: "The service refused the request (body format)." },
  malformed_json: { fr: "La requête envoyée est illisible.", en: "The request sent could not be read." },
  bad_request: { fr: "La requête a été refusée.", en: "The request was refused." },
  csrf_failed: { fr: "Sécurité : rechargez la page puis réessayez.", en: "Security check failed: reload the page and retry." },
  disallowed_host: { fr: "Le service refuse cette adresse.", en: "The service refuses this address." },
  request_header_too_large: { fr: "La requête est trop volumineuse (en-têtes).", en: "The request is too large (headers)." },
  invalid_request: { fr: "La requête est invalide.", en: "The request is not valid." },
  unknown_field: { fr: "La requête contient un champ inconnu.", en: "The request holds an unknown field." },
  invalid_document_id: { fr: "L'identifiant du document est invalide.", en: "The document id is not valid." },
  invalid_idempotency_key: { fr: "La clé de la requête est trop longue.", en: "The request key is too long." },
  idempotency_conflict: { fr: "Cette demande a déjà été envoyée avec un autre contenu.", en: "This request was already sent with other content." },
  throttled: { fr: "Trop de demandes. Réessayez dans {seconds} s.", en: "Too many requests. Try again in {seconds} s." },
  unknown_action: { fr: "Cette action n'existe pas ou plus.", en: "This action does not exist (any more)." },
  unknown_option: { fr: "Option inconnue pour cette action.", en: "Unknown option for this action." },
  missing_option: { fr: "Il manque une option : {option}.", en: "An option is missing: {option}." },
  invalid_option: { fr: "Option invalide : {option}.", en: "Invalid option: {option}." },
  missing_input: { fr: "Sélectionnez d'abord le texte à traiter.", en: "Select the text to work on first." },
  empty_input: { fr: "La sélection ne contient pas de texte.", en: "The selection holds no text." },
  invalid_input: { fr: "Le contenu envoyé est invalide.", en: "The content sent is not valid." },
  input_too_large: { fr: "Le texte est trop long pour l'assistant. Sélectionnez un passage plus court.", en: "The text is too long for the assistant. Select a shorter passage." },
  ydoc_too_large: { fr: "Le document est trop volumineux pour l'assistant.", en: "The document is too large for the assistant." },
  invalid_blocks: { fr: "Le contenu sélectionné n'a pas pu être lu.", en: "The selected content could not be read." },
  unknown_block_type: { fr: "La sélection contient un bloc que l'assistant ne sait pas traiter.", en: "The selection holds a block the assistant cannot handle." },
  invalid_block_props: { fr: "La sélection contient un bloc mal formé.", en: "The selection holds a malformed block." },
  invalid_inline_content: { fr: "La sélection contient un texte mal formé.", en: "The selection holds malformed text." },
  duplicate_block_id: { fr: "La sélection contient deux blocs de même identifiant.", en: "The selection holds two blocks with the same id." },
  ydoc_too_complex: { fr: "Le document est trop complexe pour l'assistant.", en: "The document is too complex for the assistant." },
  input_too_deep: { fr: "Le contenu est trop imbriqué pour l'assistant.", en: "The content is nested too deeply for the assistant." },
  invalid_text: { fr: "Le texte contient des caractères invalides.", en: "The text holds invalid characters." },
  invalid_base64: { fr: "Le document envoyé est illisible.", en: "The document sent could not be read." },
  invalid_yjs_update: { fr: "Le document envoyé est illisible.", en: "The document sent could not be read." },
  missing_document_store: { fr: "Le document envoyé est vide ou illisible.", en: "The document sent is empty or unreadable." },
  unknown_block_id: { fr: "Un bloc sélectionné n'existe plus dans le document.", en: "A selected block is no longer in the document." },
  model_not_configured: { fr: "Aucun modèle d'IA n'est configuré pour cette action.", en: "No AI model is configured for this action." },
  docs_token_required: { fr: "Cette action doit lire le document dans Docs : connectez-vous avec votre compte.", en: "This action must read the document in Docs: sign in with your account." },
  docs_not_configured: { fr: "Cette action a besoin de Docs, qui n'est pas relié à l'assistant.", en: "This action needs Docs, which is not connected to the assistant." },
  docs_unauthorized: { fr: "Docs a refusé votre session. Reconnectez-vous.", en: "Docs refused your session. Sign in again." },
  docs_forbidden: { fr: "Vous n'avez pas les droits nécessaires sur ce document.", en: "You do not have the rights this needs on the document." },
  docs_collaboration_locked: { fr: "Le document est en cours d'édition collaborative. Réessayez dans un instant.", en: "The document is being edited live. Try again in a moment." },
  docs_not_found: { fr: "Docs ne trouve pas ce document.", en: "Docs cannot find this document." },
  docs_rate_limited: { fr: "Docs est surchargé. Réessayez dans {seconds} s.", en: "Docs is busy. Try again in {seconds} s." },
  docs_bad_request: { fr: "Docs a refusé le contenu.", en: "Docs refused the content." },
  docs_bad_response: { fr: "Docs a répondu de façon inattendue.", en: "Docs answered unexpectedly." },
  docs_unavailable: { fr: "Docs ne répond pas. Réessayez plus tard.", en: "Docs is not answering. Try again later." },
  docs_session_invalid: { fr: "Docs ne reconnaît plus votre session : reconnectez-vous à Docs.", en: "Docs no longer recognises your session: sign in to Docs again." },
  ai_timeout: { fr: "L'assistant a mis trop de temps à répondre. Réessayez.", en: "The assistant took too long to answer. Try again." },
  job_cancelled: { fr: "L'action a été arrêtée.", en: "The action was stopped." },
  invalid_payload: { fr: "La demande envoyée à l'assistant n'est pas valide.", en: "The request sent to the assistant is not valid." },
  docs_outcome_unknown: { fr: "On ne sait pas si Docs a enregistré le résultat. Vérifiez avant de réessayer.", en: "It is not known whether Docs saved the result. Check before retrying." },
  docs_note_outcome_unknown: { fr: "On ne sait pas si la note a été créée. Vérifiez dans Docs avant de réessayer.", en: "It is not known whether the note was created. Check in Docs before retrying." },
  docs_note_conflict: { fr: "Un autre document occupe déjà la place de la note.", en: "Another document already holds the note's place." },
  docs_note_incomplete: { fr: "La note a été créée mais son contenu n'a pas pu être écrit.", en: "The note was created but its content could not be written." },
  job_finished: { fr: "L'action était déjà terminée.", en: "The action had already ended." },
  invalid_ticket: { fr: "Le suivi de l'action a été refusé. Relancez-la.", en: "Following the action was refused. Run it again." },
  ticket_expired: { fr: "Le suivi de l'action a expiré. Relancez-la.", en: "Following the action expired. Run it again." },
  invalid_filter: { fr: "Le filtre demandé est invalide.", en: "The filter is not valid." },
  model_rate_limited: { fr: "Le modèle d'IA est saturé. Réessayez dans quelques minutes.", en: "The AI model is overloaded. Try again in a few minutes." },
  model_unavailable: { fr: "Le modèle d'IA est indisponible. Réessayez plus tard.", en: "The AI model is unavailable. Try again later." },
  model_timeout: { fr: "Le modèle d'IA ne répond pas. Réessayez plus tard.", en: "The AI model is not answering. Try again later." },
  model_bad_response: { fr: "Le modèle d'IA a donné une réponse illisible. Réessayez.", en: "The AI model gave an unreadable answer. Try again." },
  model_auth_failed: { fr: "Le modèle d'IA a refusé la clé du service. Prévenez l'équipe.", en: "The AI model refused the service's key. Tell the team." },
  model_not_found: { fr: "Le modèle d'IA configuré est introuvable. Prévenez l'équipe.", en: "The configured AI model cannot be found. Tell the team." },
  model_bad_request: { fr: "Le modèle d'IA a refusé la demande.", en: "The AI model refused the request." },
  empty_document: { fr: "Le document ne contient pas de texte.", en: "The document holds no text." },
  invalid_edit: { fr: "La modification n'a pas pu être appliquée au document.", en: "The change could not be applied to the document." },
  worker_lost: { fr: "L'action a été interrompue plusieurs fois. Réessayez.", en: "The action was interrupted several times. Try again." },
  job_timeout: { fr: "L'action a pris trop de temps et a été arrêtée.", en: "The action took too long and was stopped." },
  storage_full: { fr: "Le service est saturé (stockage plein). Réessayez plus tard.", en: "The service is full (storage). Try again later." },
  internal_error: { fr: "Une erreur inattendue est survenue. Réessayez.", en: "An unexpected error happened. Try again." },
  // The extension's own: no answer at all, or a stream that could not be followed.
  network_error: { fr: "Le service de l'assistant ne répond pas. Vérifiez la connexion.", en: "The assistant service is not answering. Check the connection." },
  stream_lost: { fr: "Le suivi de l'action a été perdu. Relancez-la.", en: "Following the action was lost. Run it again." },
};

function fill(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = values[key];
    return value === undefined || value === null ? whole : String(value);
  });
}

export function ui(key: keyof typeof UI, locale: Locale, values: Record<string, unknown> = {}): string {
  return fill(UI[key][locale], values);
}

/**
 * The message for a person for an API error or a failed job's error: the extension's own for the
 * code, filled from the error's fields; for a code it does not know, the API's message (already in
 * the request's language), never a stack trace.
 */
export function errorMessage(
  error: { code: string; message?: string; [key: string]: unknown },
  locale: Locale,
): string {
  const known = ERRORS[error.code];
  const values: Record<string, unknown> = { ...error };
  if (typeof error.retry_after === "number") values.seconds = Math.max(1, Math.ceil(error.retry_after));
  if (known) {
    const text = fill(known[locale], values);
    if (!/\{\w+\}/.test(text)) return text;
    // A placeholder the error did not fill: the API's own message has the specifics.
    if (error.message) return error.message;
    return text.replace(/\s*\{\w+\}\s*/g, " ").trim();
  }
  return error.message || ERRORS.internal_error[locale];
}

export function describeError(error: unknown, locale: Locale): { code: string; message: string } {
  if (error instanceof ApiError) {
    return { code: error.code, message: errorMessage({ ...error.body, code: error.code, message: error.message }, locale) };
  }
  return { code: "internal_error", message: ERRORS.internal_error[locale] };
}
