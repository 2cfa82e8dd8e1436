using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

/// <summary>Methods of a <c>[CacheDecorator]</c> class: without a core method, the core is the inner service's member.</summary>
internal sealed partial class Parser
{
    private bool IsDecoratorMember => DecoratorInterface.AttributeOf(_method.ContainingType) is not null;

    /// <summary>
    /// The decorator's step writes the core method, forwarding to the inner service, when an interface member has this
    /// method's signature; otherwise nothing could do its work (CG0062). A decorator that is itself misused (CG0060,
    /// CG0061, CG0064) gets a stub here and its error from its own step.
    /// </summary>
    private void CheckInnerCore()
    {
        if (DecoratorInterface.AttributeOf(_method.ContainingType) is not { } attribute
            || DecoratorInterface.ServiceOf(attribute) is not { } service
            || DecoratorInterface.InnerParameter(_method.ContainingType, _cancellationToken) is null)
        {
            _hasErrors = true;
            return;
        }
        if (DecoratorInterface.MatchingMethod(service, _method) is null)
            Report(DiagnosticDescriptors.DecoratorMethodNotInInterface, _syntax.Identifier, MethodName, service.ToDisplayString(MessageFormat),
                KnownNames.CoreNameOf(MethodName));
    }
}
