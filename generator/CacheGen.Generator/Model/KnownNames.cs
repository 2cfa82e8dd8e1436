namespace CacheGen.Generator.Model;

/// <summary>
/// Names that the parser, the emitter, the analyzer and the code fixes must agree on: the attributes CacheGen reads,
/// the tool name it writes into <c>[GeneratedCode]</c>, and the rule that names a method's core method.
/// </summary>
internal static class KnownNames
{
    public const string CachedAttribute = "CacheGen.CachedAttribute";
    public const string InvalidatesCacheAttribute = "CacheGen.InvalidatesCacheAttribute";
    public const string UpdatesCacheAttribute = "CacheGen.UpdatesCacheAttribute";
    public const string CachedBatchAttribute = "CacheGen.CachedBatchAttribute";
    public const string CacheDecoratorAttribute = "CacheGen.CacheDecoratorAttribute";

    /// <summary>The tool name in the <c>[GeneratedCode]</c> attribute of every generated method.</summary>
    public const string GeneratorName = "CacheGen.Generator";

    /// <summary><c>GetAllAsync</c> becomes <c>GetAllCoreAsync</c>; <c>Count</c> becomes <c>CountCore</c>.</summary>
    public static string CoreNameOf(string name) =>
        name.Length > "Async".Length && name.EndsWith("Async", System.StringComparison.Ordinal)
            ? name.Substring(0, name.Length - "Async".Length) + "CoreAsync"
            : name + "Core";
}
