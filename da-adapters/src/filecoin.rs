//! Filecoin backend (piece CIDs / CommP, Curio PDP piece API, kubo RPC). Being written; see the DA issue.
