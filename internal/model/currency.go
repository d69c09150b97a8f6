package model

import (
	"sort"
	"strings"
)

// currencyDecimals holds the active ISO 4217 alphabetic codes and their minor
// units (the number of decimals a currency's amounts are shown with).
// Codes with no minor unit in ISO 4217 (XAU and friends) are left out: they
// are not currencies an invoice is raised in.
var currencyDecimals = map[string]int32{}

func init() {
	// Grouped by minor units to keep the table short; source: ISO 4217
	// list one, current edition.
	groups := map[int32]string{
		0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
		3: "BHD IQD JOD KWD LYD OMR TND",
		4: "CLF UYW",
		2: `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL
BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP
DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR
ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD
MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN
PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VES VED
WST XCD XCG YER ZAR ZMW ZWG`,
	}
	for dec, codes := range groups {
		for _, c := range strings.Fields(codes) {
			currencyDecimals[c] = dec
		}
	}
}

// CurrencyDecimals returns the number of decimals of an ISO 4217 currency.
func CurrencyDecimals(code string) (int32, bool) {
	d, ok := currencyDecimals[code]
	return d, ok
}

// Currencies returns every known currency code, sorted.
func Currencies() []string {
	codes := make([]string, 0, len(currencyDecimals))
	for c := range currencyDecimals {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}
