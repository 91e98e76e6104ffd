#!/usr/bin/perl
# CalculatorService (wsdl/calculator.wsdl) on Perl's SOAP::Lite, as a CGI script: one HTTP request
# (CGI environment and body on stdin) in, SOAP::Lite's HTTP reply (Status line, headers, body) out.
# To a SOAP 1.2 request it answers with a 1.2 envelope whose Fault has SOAP 1.1 children.
#   Divide with divisor 0 and dividend != 0: the declared DivisionByZero fault, code Client
#   Divide with 0/0: the same declared fault with a Server code (as stacks send declared faults)
#   Add: dies with a plain message (an undeclared Server fault)
use strict;
use warnings;
use SOAP::Lite;

package CalculatorService;

my $NS = 'http://soapbridge.dev/samples/calculator';

sub Divide {
    my ($self, $dividend, $divisor) = @_;
    if ($divisor == 0) {
        my $detail = SOAP::Data->name('DivisionByZeroFault' => \SOAP::Data->value(
            SOAP::Data->name(dividend => $dividend)->type('decimal'),
            SOAP::Data->name(message => "cannot divide $dividend by zero")->type('string'),
        ))->uri($NS);
        die SOAP::Fault->faultcode($dividend == 0 ? 'Server' : 'Client')
            ->faultstring('division by zero')->faultdetail($detail);
    }
    return SOAP::Data->name(quotient => $dividend / $divisor);
}

sub Add { die "the adder is out of order\n"; }

package main;

use SOAP::Transport::HTTP;

# SOAP::Lite maps a request's namespace to a Perl class: map the WSDL's to ours.
SOAP::Transport::HTTP::CGI->dispatch_with({$NS => 'CalculatorService'})->handle;
