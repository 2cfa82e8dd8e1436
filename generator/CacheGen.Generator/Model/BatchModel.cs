namespace CacheGen.Generator.Model;

/// <summary>
/// A <c>[CachedBatch]</c> method as plain equatable data: the method to implement (<see cref="Method"/>, whose
/// <see cref="MethodModel.Cached"/> describes the target's entries) and how its arguments map onto the target's key.
/// </summary>
/// <param name="Method">The batch method's declaration, with the target's entry settings as its <c>Cached</c>.</param>
/// <param name="Ids">The collection parameter's name.</param>
/// <param name="IdType">The element type (the target's key argument type), fully qualified.</param>
/// <param name="ValueType">The dictionary's value type, fully qualified.</param>
/// <param name="IdsConversion">How the missed ids (an <c>IReadOnlyList&lt;TId&gt;</c>) become the core's parameter: empty when they are one already, else a collection expression.</param>
/// <param name="KeyParameters">The parameters the target's key and tags use, named as the target names them: the key argument first, then the batch's own parameters of the same name.</param>
/// <param name="ReturnsDictionary">The method returns <c>Dictionary</c> rather than <c>IReadOnlyDictionary</c>.</param>
internal sealed record BatchModel(
    MethodModel Method,
    string Ids,
    string IdType,
    string ValueType,
    bool IdsConversion,
    EquatableArray<BatchKeyParameter> KeyParameters,
    bool ReturnsDictionary);

/// <summary>A parameter of the target's key or tags: the key argument (an element of the batch), or a batch argument of the same name.</summary>
internal sealed record BatchKeyParameter(string Name, string Type, bool IsId);

/// <summary>What the parser makes of one <c>[CachedBatch]</c> method: the model to emit (if any) and the errors to report.</summary>
internal sealed record BatchParseResult(BatchModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
