import VigilJSON

extension TreeEnsemble {
    /// Parses, validates and freezes an XGBoost JSON model, as written by `Booster.save_model("m.json")`.
    ///
    /// The file is RFC 8259 JSON plus XGBoost's bare `NaN`, `Infinity` and `-Infinity`, which then fail
    /// validation by field; an object that names a key twice is malformed JSON.
    ///
    /// The model must be a `gbtree` booster with the `binary:logistic` objective, a single output and
    /// numerical splits only. `base_score` may be a plain string (`"5E-1"`, before XGBoost 3.1) or a
    /// bracketed one (`"[5E-1]"`, 3.1 and later). `learner.attributes`, when present, must hold strings only.
    ///
    /// - Parameter bytes: The file's UTF-8 bytes.
    /// - Throws: ``ModelError``, whose message names the tree, node and field at fault, or for a syntax
    ///   error the byte offset.
    public init(xgboostJSON bytes: [UInt8]) throws(ModelError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, options: .nonFiniteNumbers)
        } catch {
            throw ModelError(code: .malformedJSON, message: error.description, byteOffset: error.byteOffset)
        }
        let model = try XGBoostModel(document: document)
        var builder = TreeEnsembleBuilder(featureCount: model.featureCount)
        for tree in model.trees {
            try builder.append(tree)
        }
        self.init(
            builder: builder,
            featureNames: model.featureNames,
            baseMargin: Logistic.logit(model.baseScore),
            attributes: model.attributes
        )
    }
}
