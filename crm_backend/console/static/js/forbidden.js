import { initShell } from "./shell.js";

initShell();
