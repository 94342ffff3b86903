/// Where an account holder lives: picks their names and the shape of their addresses on the network.
enum Region: Int, CaseIterable {
    case uk, germany, france, netherlands, spain, italy, brazil, india, unitedStates

    var firstNames: [String] {
        switch self {
        case .uk: ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Grace", "Charlie",
                   "Sophie", "Thomas", "Emily", "James", "Lily", "William", "Chloe", "Mohammed", "Priya", "Siobhan",
                   "Callum", "Zoë", "Rhys", "Aisha"]
        case .germany: ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Maximilian", "Sophie", "Paul", "Marie",
                        "Jürgen", "Ursula", "Mehmet", "Katrin", "Stefan", "Jörg", "Sabine"]
        case .france: ["Louis", "Emma", "Gabriel", "Jade", "Raphaël", "Louise", "Arthur", "Chloé", "Hugo", "Léa",
                       "Mathéo", "Inès", "Nicolas", "Camille", "Karim", "Élodie"]
        case .netherlands: ["Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sophie", "Bram",
                            "Fleur", "Jeroen", "Anouk", "Sven"]
        case .spain: ["Hugo", "Lucía", "Martín", "Sofía", "Mateo", "Martina", "Pablo", "María", "Álvaro", "Paula",
                      "Javier", "Carmen", "Íñigo", "Nerea"]
        case .italy: ["Leonardo", "Sofia", "Francesco", "Giulia", "Alessandro", "Aurora", "Lorenzo", "Alice",
                      "Mattia", "Ginevra", "Niccolò", "Chiara", "Giuseppe", "Francesca"]
        case .brazil: ["João", "Maria", "Pedro", "Ana", "Lucas", "Juliana", "Gabriel", "Fernanda", "Rafael", "Beatriz",
                       "Matheus", "Conceição", "Thiago", "Larissa", "Antônio", "Luíza"]
        case .india: ["Aarav", "Priya", "Vivaan", "Ananya", "Aditya", "Diya", "Arjun", "Isha", "Rohan", "Kavya",
                      "Rahul", "Sneha", "Vikram", "Pooja", "Sanjay", "Lakshmi"]
        case .unitedStates: ["Liam", "Olivia", "Noah", "Emma", "James", "Charlotte", "Elijah", "Amelia", "Mason",
                             "Harper", "Ethan", "Evelyn", "Logan", "Abigail", "DeShawn", "Camila"]
        }
    }

    var lastNames: [String] {
        switch self {
        case .uk: ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
                   "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "O'Brien",
                   "Macdonald", "Hughes", "Clarke", "Begum", "Ali"]
        case .germany: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
                        "Hoffmann", "Koch", "Richter", "Yılmaz", "Krüger", "Schäfer"]
        case .france: ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
                       "Laurent", "Lefèvre", "Girard", "Benali", "Fontaine", "Rousseau"]
        case .netherlands: ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
                            "Smit", "Meijer", "de Boer", "Mulder", "van der Meer", "Bos"]
        case .spain: ["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
                      "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz"]
        case .italy: ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
                      "Greco", "Bruno", "Gallo", "Conti", "De Luca"]
        case .brazil: ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
                       "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo"]
        case .india: ["Sharma", "Verma", "Gupta", "Singh", "Kumar", "Patel", "Reddy", "Nair", "Iyer", "Das",
                      "Chatterjee", "Mehta", "Joshi", "Rao", "Khan"]
        case .unitedStates: ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
                             "Rodriguez", "Martinez", "Wilson", "Anderson", "Thomas", "Jackson", "Nguyen", "Lee"]
        }
    }

    /// A person's name as a bank holds it, sometimes with a middle initial or as a joint account.
    func personName(_ random: inout RandomSource) -> String {
        let first = random.element(of: firstNames)
        let last = random.element(of: lastNames)
        let roll = random.uniform()
        if roll < 0.05 { return "\(first) \(Character(Unicode.Scalar(UInt8(65 + random.int(below: 26))))) \(last)" }
        if roll < 0.08 { return "\(first) \(last) & \(random.element(of: firstNames)) \(last)" }
        if roll < 0.10 { return "\(last), \(first)" }
        return "\(first) \(last)"
    }
}
