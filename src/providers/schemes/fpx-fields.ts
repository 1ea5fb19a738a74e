// The 21 fields FPX's fpx_checkSum signs, in the order their values are joined (fpx.ts). Apart, and
// importing nothing, so the published schema's source (schema/events.ts) can name them.

export const FPX_SIGNED_FIELDS = [
  "fpx_buyerBankBranch",
  "fpx_buyerBankId",
  "fpx_buyerIban",
  "fpx_buyerId",
  "fpx_buyerName",
  "fpx_creditAuthCode",
  "fpx_creditAuthNo",
  "fpx_debitAuthCode",
  "fpx_debitAuthNo",
  "fpx_fpxTxnId",
  "fpx_fpxTxnTime",
  "fpx_makerName",
  "fpx_msgToken",
  "fpx_msgType",
  "fpx_sellerExId",
  "fpx_sellerExOrderNo",
  "fpx_sellerId",
  "fpx_sellerOrderNo",
  "fpx_sellerTxnTime",
  "fpx_txnAmount",
  "fpx_txnCurrency",
] as const;
