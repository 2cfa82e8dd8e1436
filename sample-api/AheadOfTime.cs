namespace CacheGen.SampleApi;

/// <summary>Why the EF Core calls of this sample may carry trimming/AOT suppressions.</summary>
internal static class AheadOfTime
{
    /// <summary>
    /// EF Core marks its entry points as needing reflection and runtime code generation, because by default it builds
    /// the model and compiles each query at run time. The native binary does neither: the model is compiled
    /// (CompiledModel/) and every query is precompiled just before the publish (<c>dotnet ef dbcontext optimize
    /// --precompile-queries --nativeaot</c>, see .ci/aot-smoke).
    /// </summary>
    public const string Justification = "Native AOT publishes use the compiled model (CompiledModel/) and precompiled queries (dotnet ef dbcontext optimize --precompile-queries --nativeaot).";
}
