/** The playground's starting document: a French administrative text, with the formatting the
 * actions must keep (headings, bold, italic, a list). */
export const FRENCH_DOCUMENT = [
  { type: "heading", props: { level: 1 }, content: "Compte rendu de la réunion du comité de pilotage" },
  {
    type: "paragraph",
    content: [
      { type: "text", text: "Date : ", styles: { bold: true } },
      { type: "text", text: "12 mars 2026, salle Marianne, ministère de la Transition numérique.", styles: {} },
    ],
  },
  { type: "heading", props: { level: 2 }, content: "Ordre du jour" },
  {
    type: "paragraph",
    content: [
      { type: "text", text: "La séance est ouverte à 10 heures par la directrice du programme, qui rappelle que le ", styles: {} },
      { type: "text", text: "déploiement de l'outil de rédaction collaborative", styles: { bold: true } },
      { type: "text", text: " doit être achevé dans l'ensemble des services déconcentrés avant la fin du second semestre.", styles: {} },
    ],
  },
  {
    type: "paragraph",
    content: [
      { type: "text", text: "Le comité examine ensuite le bilan de l'expérimentation menée dans trois préfectures. Les agents interrogés jugent l'outil ", styles: {} },
      { type: "text", text: "simple à prendre en main", styles: { italic: true } },
      { type: "text", text: ", mais demandent une formation complémentaire sur le partage des documents et la gestion des droits d'accès.", styles: {} },
    ],
  },
  { type: "heading", props: { level: 2 }, content: "Décisions" },
  { type: "bulletListItem", content: "Généraliser le déploiement à partir du 1er avril 2026." },
  { type: "bulletListItem", content: "Organiser deux sessions de formation par région avant l'été." },
  { type: "bulletListItem", content: "Présenter un point d'étape lors du prochain comité, le 18 juin 2026." },
  {
    type: "paragraph",
    content: "L'ordre du jour étant épuisé, la séance est levée à 11 h 45.",
  },
];
