/// Names for simulated businesses, by what they do and where they are registered.
enum BusinessNames {
    enum Kind {
        case shop, utility, employer, exchange, marketplace, lettingAgent, tradesperson
    }

    static let stems = [
        "Northgate", "Bluebell", "Riverside", "Summit", "Oakwood", "Harbour", "Crown", "Meridian", "Evergreen",
        "Lighthouse", "Falcon", "Orchard", "Granite", "Silverline", "Beacon", "Kestrel", "Maple", "Horizon", "Atlas",
        "Pioneer", "Cedar", "Sterling", "Willow", "Copper", "Juniper", "Nova", "Vertex", "Quay", "Larkspur", "Ember",
    ]

    static func name(_ kind: Kind, region: Region, _ random: inout RandomSource) -> String {
        let stem = random.element(of: stems)
        let word: String
        switch kind {
        case .shop: word = random.element(of: ["Foods", "Market", "Stores", "Pharmacy", "Bakery", "Outfitters", "Books", "Garden Centre", "Coffee"])
        case .utility: word = random.element(of: ["Energy", "Water", "Telecom", "Broadband", "Mobile", "Gas & Power"])
        case .employer: word = random.element(of: ["Logistics", "Consulting", "Healthcare", "Engineering", "Hospitality", "Software", "Manufacturing", "Retail Group"])
        case .exchange: word = random.element(of: ["Crypto Exchange", "Digital Assets", "Coin Markets", "Invest"])
        case .marketplace: word = random.element(of: ["Marketplace", "Online", "Direct", "Shop"])
        case .lettingAgent: word = random.element(of: ["Lettings", "Property Management", "Estates"])
        case .tradesperson: word = random.element(of: ["Plumbing", "Electrical", "Roofing", "Builders", "Cleaning", "Motors"])
        }
        return stem + " " + word + " " + legalSuffix(region, &random)
    }

    static func legalSuffix(_ region: Region, _ random: inout RandomSource) -> String {
        switch region {
        case .uk: random.chance(0.8) ? "Ltd" : "PLC"
        case .germany: random.chance(0.7) ? "GmbH" : "AG"
        case .france: random.chance(0.6) ? "SAS" : "SARL"
        case .netherlands: "B.V."
        case .spain: "S.L."
        case .italy: "S.r.l."
        case .brazil: "Ltda"
        case .india: "Pvt Ltd"
        case .unitedStates: random.chance(0.6) ? "Inc." : "LLC"
        }
    }
}
