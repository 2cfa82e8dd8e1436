using Microsoft.CodeAnalysis;

// A yardstick, not a product: compiled into this benchmark only, never loaded by a compiler.
#pragma warning disable RS1036, RS1041

namespace CacheGen.Generator.Benchmarks;

/// <summary>
/// The least a generator keyed on CacheGen's attributes can do: find them with ForAttributeWithMetadataName and
/// return each method's name. Roslyn re-runs this binding after every edit, so it is the floor for
/// <see cref="GeneratorBenchmarks.UnrelatedEdit"/>.
/// </summary>
[Generator]
public sealed class FloorGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        foreach (string attribute in new[] { "CacheGen.CachedAttribute", "CacheGen.InvalidatesCacheAttribute" })
        {
            IncrementalValuesProvider<string> names = context.SyntaxProvider.ForAttributeWithMetadataName(
                attribute, static (_, _) => true, static (c, _) => c.TargetSymbol.Name);
            context.RegisterSourceOutput(names, static (_, _) => { });
        }
    }
}
