/** suite_ai's in-editor AI actions for BlockNote (MIT). */
import "./style.css";

export * from "./api";
export * from "./auth";
export * from "./controller";
export * from "./messages";
export * from "./react/components";
